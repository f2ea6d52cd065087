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

    public init(
        schedulerURL: String, token: String, nodeID: NodeID? = nil, dataDir: String = "/var/lib/corral/agent",
        labels: [String: String] = [:], cpuCores: Double? = nil, memoryBytes: UInt64? = nil,
        sandbox: SandboxConfig = SandboxConfig(), tenantGroups: IdentityRange = TenantGroups.defaultRange,
        logLimitBytes: UInt64 = 8 << 20, ioDevice: DeviceNumber? = nil,
        listen: String? = nil, tls: ClientTLS? = nil
    ) {
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
