import Cgroups
import CorralClient
import CorralProtocol
import Foundation
import Sandbox

/// How an agent is set up: where the scheduler is, who this node is, where it keeps its state.
public struct AgentConfiguration: Sendable {
    public var schedulerURL: String
    public var token: String
    public var nodeID: NodeID
    /// Allocation records, status files and task logs live here.
    public var dataDir: String
    public var labels: [String: String]
    /// What the node offers; nil fields are measured from the host (cores, MemTotal).
    public var cpuCores: Double?
    public var memoryBytes: UInt64?
    public var sandbox: SandboxConfig
    /// gids of tenant groups (one per tenant), outside the task uid range.
    public var tenantGroups: IdentityRange
    /// Each task's stdout and stderr keep this many of their latest bytes (and up to an eighth more).
    public var logLimitBytes: UInt64
    /// Block device that tasks' I/O bandwidth requests are enforced on (`io.max` / blkio throttle);
    /// nil: I/O requests count for placement only.
    public var ioDevice: DeviceNumber?
    /// Address this agent serves task logs on (`host:port`), advertised to the scheduler; nil: none.
    public var listen: String?
    /// The CA that verifies an https:// scheduler, and this node's client certificate for mTLS.
    public var tls: ClientTLS?
    /// The node's weight in weighted least-connection placement.
    public var weight: Double
    /// The node's address as clients reach it (published ports); nil: derived, see `nodeAddress`.
    public var advertiseAddress: String?
    /// Bridge networking for tasks that ask for it; nil: off.
    public var bridge: BridgeConfiguration?
    /// Host directories tasks may mount, by name.
    public var volumes: [String: HostVolume]
    /// How long an ended task's work directory stays readable (`corral alloc fs`) before it is removed; 0 (the
    /// default here; `corral agent` keeps them an hour): removed as the task ends.
    public var workRetentionSeconds: Double
    /// When reclaimable tasks yield and are evicted (`PressureRelief`); nil: never.
    public var relief: PressureRelief.Settings?

    public init(
        schedulerURL: String, token: String, nodeID: NodeID? = nil, dataDir: String = "/var/lib/corral/agent",
        labels: [String: String] = [:], cpuCores: Double? = nil, memoryBytes: UInt64? = nil,
        sandbox: SandboxConfig = SandboxConfig(), tenantGroups: IdentityRange = TenantGroups.defaultRange,
        logLimitBytes: UInt64 = 8 << 20, ioDevice: DeviceNumber? = nil,
        listen: String? = nil, tls: ClientTLS? = nil, weight: Double = 1, advertiseAddress: String? = nil,
        bridge: BridgeConfiguration? = nil, volumes: [String: HostVolume] = [:], workRetentionSeconds: Double = 0,
        relief: PressureRelief.Settings? = PressureRelief.Settings()
    ) {
        self.relief = relief
        self.workRetentionSeconds = workRetentionSeconds
        self.volumes = volumes
        self.schedulerURL = schedulerURL
        self.token = token
        self.nodeID = nodeID ?? Self.defaultNodeID()
        self.dataDir = dataDir
        self.labels = labels
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
        self.sandbox = sandbox
        self.tenantGroups = tenantGroups
        self.logLimitBytes = logLimitBytes
        self.ioDevice = ioDevice
        self.listen = listen
        self.tls = tls
        self.weight = weight
        self.advertiseAddress = advertiseAddress
        self.bridge = bridge
    }

    /// Where clients reach this node: `advertiseAddress`, else the host `listen` names (unless a wildcard or
    /// loopback),
    /// else the first IPv4 address of an interface that is up and not loopback (nor the task bridge).
    public var nodeAddress: String {
        if let advertiseAddress { return advertiseAddress }
        if let listen, let colon = listen.lastIndex(of: ":") {
            let host = listen[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            // A loopback address is no use for published ports: other hosts cannot reach it, and the node's own
            // DNAT cannot send loopback-sourced packets to a bridge.
            if !["", "0.0.0.0", "::", "*", "localhost", "::1"].contains(host), !host.hasPrefix("127.") { return host }
        }
        return Self.firstInterfaceAddress(excluding: bridge?.name) ?? "127.0.0.1"
    }

    static func firstInterfaceAddress(excluding device: String?) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let flags = Int32(bitPattern: entry.pointee.ifa_flags)
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0,
                String(cString: entry.pointee.ifa_name) != device
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var addr = sin.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil
            }
            if ok { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        return nil
    }

    /// The host name, cut to a valid node id.
    public static func defaultNodeID() -> NodeID {
        let name = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node"
        let valid = name.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }
        return NodeID(valid.prefix(63)) ?? NodeID("node")!
    }

    /// Whether the log endpoint serves HTTPS (with the node's certificate).
    var servesTLS: Bool { tls?.certificate != nil && tls?.key != nil }

    var allocationsDir: String { dataDir + "/allocations" }
    var logsDir: String { dataDir + "/logs" }
}
