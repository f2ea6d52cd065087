import Agent
import ArgumentParser
import Cgroups
import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Sandbox

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the node agent: register, heartbeat, run the allocations the scheduler gives this node.",
        discussion: """
            SIGTERM or SIGINT stops the agent and leaves its tasks running; an agent started again on the same
            --data-dir adopts them and reports how those that ended meanwhile ended.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var node: AgentOptions

    func run() async throws {
        // Files this process creates (state, config, logs, records) are its own unless made otherwise.
        umask(0o077)
        let logger = global.bootstrap(label: "corral.agent")
        let agent = try Agent(configuration: try node.configuration(), logger: logger)
        try await AgentService.run(agent, logger: logger)
    }
}

/// The agent's flags, shared by `corral agent` and `corral dev`.
struct AgentOptions: ParsableArguments {
    @Option(
        help: "Scheduler URL, or every scheduler's, comma-separated (default $CORRAL_ADDR or http://127.0.0.1:4646).")
    var scheduler: String?
    @Option(help: "File (mode 0600) holding the scheduler's agent (bootstrap) token (default: $CORRAL_TOKEN).")
    var tokenFile: String?
    @Option(help: "Node id (default: the host name).") var nodeId: String?
    @Option(help: "CA certificate (PEM) to verify an https:// scheduler with (default: $CORRAL_CACERT).") var ca:
        String?
    @Option(help: "This node's client certificate (PEM, named by the node id: `corral tls init --node ID`), for mTLS.")
    var tlsCert: String?
    @Option(help: "The client certificate's private key (PEM).") var tlsKey: String?
    @Option(help: "Directory for allocation records and task logs.") var dataDir = "/var/lib/corral/agent"
    @Option(help: "Parent of task cgroups (default corral.slice, under the agent's delegated cgroup if any).")
    var cgroupParent: String?
    @Option(help: "Node labels, k=v,k=v.") var labels: String?
    @Option(help: "Address the agent advertises for its logs, host:port.") var listen: String?
    @Option(help: "CPU cores this node offers (default: all online CPUs).") var cpu: Double?
    @Option(help: "Memory this node offers, e.g. 4Gi (default: all of MemTotal).") var memory: String?
    @Option(help: "Block device MAJ:MIN on which tasks' I/O bandwidth requests are enforced.") var ioDevice: String?
    @Option(help: "Directory on tmpfs for task work directories.") var workRoot: String?
    @Option(help: "The image store (`corral image import --images-dir`).") var imagesDir = "/var/lib/corral/images"
    @Option(help: "Bytes of stdout/stderr kept per task and stream (the latest), e.g. 8Mi.") var logLimit = "8Mi"
    @Option(
        help: "gids for tenant groups, one per tenant that ran here (FIRST-LAST; default \(TenantGroups.defaultRange))."
    )
    var tenantGids: String?
    @Option(
        help: "This node's weight in weighted least-connection placement (a node of weight 2 takes twice the tasks).")
    var weight: Double = 1
    @Option(
        help:
            "The node's address as clients reach it, for published ports (default: the --listen host, else the first IPv4 address of the host)."
    )
    var advertiseAddress: String?
    @Option(
        help:
            "IPv4 subnet bridge-mode tasks get addresses from (the bridge takes the first; must not overlap the host's routes), or \"off\"."
    )
    var taskSubnet: String?
    @Option(help: "Name of the bridge device bridge-mode tasks are attached to.") var bridge = "corral0"
    @Option(help: "Node ports tasks' named ports are published on, FIRST-LAST.") var portRange = "20000-29999"
    @Option(name: .customLong("volume"), help: "A host directory tasks may mount, NAME=PATH[:ro] (repeatable).")
    var volumes: [String] = []
    @Option(
        help:
            "How long an ended task's work directory stays readable with `corral alloc fs`, e.g. 1h (0: removed at once)."
    )
    var workRetention = "1h"
    @Option(
        help: ArgumentHelp(
            "The share of time (0-1) the node's tasks may stall for CPU or memory before reclaimable tasks yield, "
                + "and are evicted if it lasts (off: never).",
            valueName: "SHARE"))
    var reclaimPressure = "0.25"
    @Option(help: "How long pressure lasts, with reclaimable tasks yielding, before the newest is evicted.")
    var reclaimEvictAfter = "10s"
    @OptionGroup var sandboxOptions: SandboxOptions

    func configuration(defaultToken: String? = nil, defaultScheduler: String? = nil) throws -> AgentConfiguration {
        let token = try defaultToken ?? TokenFile.token(tokenFile, hint: "agentToken in the scheduler's config.json")
        var parsedLabels: [String: String] = [:]
        for pair in (labels ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--labels: \"\(pair)\" is not k=v")
            }
            guard !parts[0].hasPrefix("corral.") else {
                throw ValidationError("--labels: \"\(parts[0])\": labels starting with corral. are the agent's own")
            }
            parsedLabels[String(parts[0])] = String(parts[1])
        }
        var hostVolumes: [String: HostVolume] = [:]
        for text in volumes {
            do throws(AgentError) {
                let (name, volume) = try HostVolume.parse(text)
                guard hostVolumes.updateValue(volume, forKey: name) == nil else {
                    throw AgentError.configuration("--volume \(name) is given twice")
                }
            } catch { throw ValidationError("\(error)") }
        }
        var device: DeviceNumber?
        if let ioDevice {
            let parts = ioDevice.split(separator: ":")
            guard parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) else {
                throw ValidationError("--io-device: \"\(ioDevice)\" is not MAJ:MIN, like 8:0")
            }
            device = DeviceNumber(major: major, minor: minor)
        }
        if let cpu, !(cpu > 0) { throw ValidationError("--cpu: must be positive") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        let node = try nodeId.map { text in
            guard let node = NodeID(text) else { throw ValidationError("--node-id: \"\(text)\" \(NodeID.rule)") }
            return node
        }
        guard weight > 0, weight <= 1e6 else { throw ValidationError("--weight: must be within (0, 1000000]") }
        if let advertiseAddress,
            advertiseAddress.isEmpty || advertiseAddress.contains(where: { $0 == "/" || $0 == " " })
        {
            throw ValidationError("--advertise-address: \"\(advertiseAddress)\" is not a host name or address")
        }
        var sandbox = SandboxConfig(cgroupParent: cgroupParent, workRoot: workRoot, imagesDirectory: imagesDir)
        try sandboxOptions.apply(to: &sandbox)
        var groups: IdentityRange?
        if let tenantGids {
            do throws(ValueError) { groups = try IdentityRange.parse(tenantGids, field: "--tenant-gids") } catch {
                throw ValidationError(error.description)
            }
        }
        return AgentConfiguration(
            schedulerURL: scheduler ?? defaultScheduler ?? ProcessInfo.processInfo.environment["CORRAL_ADDR"]
                ?? "http://127.0.0.1:4646",
            token: token, nodeID: node, dataDir: dataDir, labels: parsedLabels, cpuCores: cpu,
            memoryBytes: try memory.flatMap { text throws(ValueError) in try ByteSize.parse(text, field: "--memory") },
            sandbox: sandbox, tenantGroups: groups ?? TenantGroups.defaultRange,
            logLimitBytes: try ByteSize.parse(logLimit, field: "--log-limit") ?? 8 << 20, ioDevice: device,
            listen: listen, tls: ClientTLS.fromOptions(ca: ca, certificate: tlsCert, key: tlsKey), weight: weight,
            advertiseAddress: advertiseAddress, bridge: try bridgeConfiguration(), volumes: hostVolumes,
            workRetentionSeconds: try retention(), relief: try relief())
    }

    func relief() throws -> PressureRelief.Settings? {
        if reclaimPressure == "off" { return nil }
        guard let threshold = Double(reclaimPressure), threshold > 0, threshold <= 1 else {
            throw ValidationError("--reclaim-pressure: \"\(reclaimPressure)\" is not a share within (0, 1] or off")
        }
        do throws(ValueError) {
            let after = try DurationText.parse(reclaimEvictAfter, field: "--reclaim-evict-after").inSeconds
            guard after >= 1, after <= 3600 else {
                throw ValueError(field: "--reclaim-evict-after", message: "must be within 1s...1h")
            }
            return PressureRelief.Settings(threshold: threshold, evictAfter: after, restoreAfter: max(30, 3 * after))
        } catch {
            throw ValidationError(error.description)
        }
    }

    func retention() throws -> Double {
        if workRetention == "0" { return 0 }
        do throws(ValueError) {
            return try DurationText.parse(workRetention, field: "--work-retention").inSeconds
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Bridge networking as the flags ask: an operator's own subnet must not overlap the host's routes now.
    func bridgeConfiguration() throws -> BridgeConfiguration? {
        if taskSubnet == "off" { return nil }
        let range = portRange.split(separator: "-", omittingEmptySubsequences: false)
        guard range.count == 2, let first = Int(range[0]), let last = Int(range[1]), first <= last else {
            throw ValidationError("--port-range: \"\(portRange)\" is not FIRST-LAST, like 20000-29999")
        }
        let configuration: BridgeConfiguration
        do throws(AgentError) {
            configuration = BridgeConfiguration(
                name: bridge, subnet: try IPv4Subnet(taskSubnet ?? BridgeConfiguration.defaultSubnet),
                ports: first...last)
            try configuration.validate()
        } catch { throw ValidationError("\(error)") }
        if taskSubnet != nil {
            let overlapping = configuration.subnet.overlappingRoutes(excludingDevice: bridge)
            guard overlapping.isEmpty else {
                throw ValidationError(
                    "--task-subnet \(configuration.subnet) overlaps the host's routes: \(overlapping.joined(separator: "; "))"
                )
            }
        }
        return configuration
    }
}
