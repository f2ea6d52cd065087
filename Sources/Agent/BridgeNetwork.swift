import CorralModel
import CorralProtocol
import Foundation
import Logging

/// How bridge-mode tasks are networked on this node: the agent's bridge, the task subnet it hands addresses
/// from, and the node ports it publishes tasks' ports on.
public struct BridgeConfiguration: Sendable {
    public static let defaultSubnet = "10.89.0.0/24"
    public static let defaultPorts = 20_000...29_999

    /// The bridge device, at most 15 characters (`corral0`).
    public var name: String
    public var subnet: IPv4Subnet
    public var ports: ClosedRange<Int>

    public init(name: String = "corral0", subnet: IPv4Subnet, ports: ClosedRange<Int> = Self.defaultPorts) {
        self.name = name
        self.subnet = subnet
        self.ports = ports
    }

    /// Checks what a flag cannot: the device name and the port range.
    public func validate() throws(AgentError) {
        // Also the name of its nftables tables: a letter, then letters, digits and _.
        guard (1...15).contains(name.utf8.count), name.first?.isLetter == true,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
            !name.hasPrefix(BridgeNetwork.devicePrefix)
        else {
            throw AgentError.configuration(
                "--bridge \"\(name)\": 1-15 of A-Z a-z 0-9 _, starting with a letter (and not with \"cv\")")
        }
        guard ports.lowerBound >= 1, ports.upperBound <= 65_535 else {
            throw AgentError.configuration("--port-range \(ports): ports are 1...65535")
        }
    }
}

/// A bridge-mode task's share of the node's network: its veth, address and published ports. Kept in the
/// allocation's record, so that a restarted agent keeps them for the task it adopts.
struct NetworkAttachment: Sendable, Codable, Equatable {
    var tenant: String
    /// The host end of the task's veth pair (its other end is `eth0` in the task).
    var device: String
    var address: IPv4Address
    var ports: [PublishedPort]

    var view: AllocationNetwork { AllocationNetwork(mode: .bridge, address: address.description, ports: ports) }
}

/// The agent's bridge: one Linux bridge, an nftables table per family (NAT and the published ports in
/// `inet corral`, tenant separation on the bridge in `bridge corral`), one veth pair per bridge-mode task.
/// Set up at the first bridge-mode task (or at start, when adopted tasks hold attachments), rebuilt from the
/// live attachments each time, so nothing of a task that ended while the agent was down survives.
actor BridgeNetwork {
    static let devicePrefix = "cv"
    let configuration: BridgeConfiguration
    /// The node's address as clients reach it: published ports are `nodeAddress:port`.
    let nodeAddress: String
    let logger: Logger
    var attachments: [AllocationID: NetworkAttachment] = [:]
    var ready = false

    init(configuration: BridgeConfiguration, nodeAddress: String, logger: Logger) {
        self.configuration = configuration
        self.nodeAddress = nodeAddress
        self.logger = logger
    }

    /// Picks the task's address, device name and node ports. Nothing is set up yet.
    func reserve(_ id: AllocationID, tenant: String, ports: [TaskNetwork.Port]) throws(AgentError) -> NetworkAttachment
    {
        let usedAddresses = Set(attachments.values.map(\.address.value))
        guard let address = configuration.subnet.taskAddresses.first(where: { !usedAddresses.contains($0) }) else {
            throw AgentError.network("the task subnet \(configuration.subnet) has no free address")
        }
        var usedPorts = Set(attachments.values.flatMap { $0.ports.map(\.hostPort) })
        var published: [PublishedPort] = []
        for port in ports {
            guard let hostPort = configuration.ports.first(where: { !usedPorts.contains($0) }) else {
                throw AgentError.network("no free node port in \(configuration.ports) for port \(port.name)")
            }
            usedPorts.insert(hostPort)
            published.append(
                PublishedPort(name: port.name, to: port.to, hostPort: hostPort, address: "\(nodeAddress):\(hostPort)"))
        }
        let attachment = NetworkAttachment(
            tenant: tenant, device: Self.devicePrefix + String(address, radix: 16), address: IPv4Address(address),
            ports: published)
        attachments[id] = attachment
        return attachment
    }

    /// Connects the task's network namespace (PID 1 `pid` is waiting in it) to the bridge: the veth pair,
    /// the task's address and default route, its published ports and its tenant's peers.
    func plumb(_ id: AllocationID, pid: Int32) async throws(AgentError) {
        guard let attachment = attachments[id] else { throw AgentError.network("no network reserved for \(id)") }
        do {
            try await ensureReady()
            let subnet = configuration.subnet
            try await HostCommand.run(
                "ip", ["-batch", "-"],
                input: """
                    link add \(attachment.device) type veth peer name eth0 netns \(pid)
                    link set \(attachment.device) master \(configuration.name)
                    link set \(attachment.device) up

                    """)
            try await HostCommand.run(
                "nsenter", ["--net=/proc/\(pid)/ns/net", HostCommand.find("ip") ?? "ip", "-batch", "-"],
                input: """
                    addr add \(attachment.address)/\(subnet.prefix) dev eth0
                    link set eth0 up
                    route add default via \(subnet.gateway)

                    """)
            try await HostCommand.run("nft", ["-f", "-"], input: elements(of: attachment, verb: "add"))
        } catch {
            await release(id)
            throw error
        }
    }

    /// Frees what the task held: its rules, its veth (gone already if its namespace is), its address and ports.
    func release(_ id: AllocationID) async {
        guard let attachment = attachments[id] else { return }
        // Worked out and forgotten before the first await: a release running meanwhile (another task of the
        // tenant) then neither deletes this task's pairs again nor misses its own.
        let rules = ready ? elements(of: attachment, verb: "delete") : ""
        attachments[id] = nil
        // One command per line: a pair a concurrent release deleted already does not keep the ports.
        for line in rules.split(separator: "\n") {
            do { try await HostCommand.run("nft", ["-f", "-"], input: line + "\n") } catch {
                logger.warning("cannot remove a task's rules", metadata: ["allocation": "\(id)", "error": "\(error)"])
            }
        }
        _ = try? await HostCommand.run("ip", ["link", "del", attachment.device])
    }

    /// After a restart: the adopted tasks' attachments are kept, and whatever else an earlier run left (rules,
    /// veths of tasks that are gone) is removed. Nothing is set up on a node that never ran a bridge task.
    func restore(_ live: [AllocationID: NetworkAttachment]) async {
        attachments = live
        let bridgeExists = (try? await HostCommand.run("ip", ["link", "show", "dev", configuration.name])) != nil
        guard !live.isEmpty || bridgeExists else { return }
        do {
            try await ensureReady()
            logger.info("bridge networking restored", metadata: ["tasks": "\(live.count)"])
        } catch {
            logger.error("cannot restore bridge networking", metadata: ["error": "\(error)"])
        }
    }

    /// The bridge, forwarding and the rules with every live attachment's elements, in one nftables
    /// transaction; veths on the bridge that belong to no attachment are removed.
    func ensureReady() async throws(AgentError) {
        if ready { return }
        let subnet = configuration.subnet
        let overlapping = subnet.overlappingRoutes(excludingDevice: configuration.name)
        guard overlapping.isEmpty else {
            throw AgentError.network(
                "the task subnet \(subnet) overlaps the host's routes (\(overlapping.joined(separator: "; "))): "
                    + "give the agent another with --task-subnet")
        }
        try await enableForwarding()
        let bridge = configuration.name
        if (try? await HostCommand.run("ip", ["link", "show", "dev", bridge])) == nil {
            try await HostCommand.run("ip", ["link", "add", bridge, "type", "bridge"])
            logger.notice("created the task bridge", metadata: ["bridge": "\(bridge)", "subnet": "\(subnet)"])
        }
        try await HostCommand.run(
            "ip", ["-batch", "-"],
            input: """
                addr replace \(subnet.gateway)/\(subnet.prefix) dev \(bridge)
                link set \(bridge) up

                """)
        try await HostCommand.run("nft", ["-f", "-"], input: ruleset())
        let live = Set(attachments.values.map(\.device))
        for device in try await devicesOnBridge() where !live.contains(device) {
            _ = try? await HostCommand.run("ip", ["link", "del", device])
            logger.info("removed a veth left by a task that is gone", metadata: ["device": "\(device)"])
        }
        ready = true
    }

    /// Turns IPv4 forwarding on in the agent's network namespace (tasks' traffic is routed through it).
    func enableForwarding() async throws(AgentError) {
        let path = "/proc/sys/net/ipv4/ip_forward"
        let now = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard now != "1" else { return }
        do { try "1\n".write(toFile: path, atomically: false, encoding: .utf8) } catch {
            throw AgentError.network("cannot turn on IPv4 forwarding (\(path)): \(error)")
        }
        logger.notice("turned on IPv4 forwarding for bridge networking", metadata: ["sysctl": "net.ipv4.ip_forward"])
    }

    func devicesOnBridge() async throws(AgentError) -> [String] {
        let listing = try await HostCommand.run("ip", ["-o", "link", "show", "master", configuration.name])
        return listing.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { return nil }
            let name = fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init)
            return name.flatMap { $0.hasPrefix(Self.devicePrefix) ? $0 : nil }
        }
    }
}
