import CorralModel

/// The cluster as a capacity report sees it at one moment: read from a running scheduler, or rebuilt
/// from a data directory's store while the scheduler is stopped (or running: SQLite lets readers in).
public struct ClusterSnapshot: Sendable, Codable, Equatable {
    public struct Job: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var tenant: String
        /// What each of its tasks requests: cores and bytes.
        public var cpu: Double
        public var memory: UInt64
        public var tasks: Int
        /// Tasks placed or running now.
        public var active: Int
        public var submittedAt: Double

        public init(
            id: String, name: String, tenant: String, cpu: Double, memory: UInt64, tasks: Int, active: Int = 0,
            submittedAt: Double = 0
        ) {
            self.id = id
            self.name = name
            self.tenant = tenant
            self.cpu = cpu
            self.memory = memory
            self.tasks = tasks
            self.active = active
            self.submittedAt = submittedAt
        }
    }

    public struct Tenant: Sendable, Codable, Equatable {
        public var name: String
        public var quota: TenantQuota?
        public var usage: TenantUsage

        public init(name: String, quota: TenantQuota?, usage: TenantUsage) {
            self.name = name
            self.quota = quota
            self.usage = usage
        }
    }

    public var time: Double
    public var nodes: [NodeStatus]
    public var jobs: [Job]
    public var tenants: [Tenant]

    public init(time: Double, nodes: [NodeStatus], jobs: [Job], tenants: [Tenant]) {
        self.time = time
        self.nodes = nodes
        self.jobs = jobs
        self.tenants = tenants
    }
}
