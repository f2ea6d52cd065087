import CorralModel
import Foundation
import Store

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

extension SchedulerCore {
    public func snapshot(now: Double) -> ClusterSnapshot {
        let jobs = allJobs.map { job in
            let tasks = self.tasks(of: job.id)
            return ClusterSnapshot.Job(
                id: job.id, name: job.spec.name, tenant: job.spec.tenant, cpu: job.spec.resources.cpu,
                memory: job.spec.resources.memory, tasks: job.spec.count,
                active: tasks.filter { $0.state == .scheduled || $0.state == .running }.count,
                submittedAt: job.submittedAt)
        }
        let names = Set(configuration.quotas.keys).union(usage.keys).union(jobs.map(\.tenant))
        return ClusterSnapshot(
            time: now, nodes: nodeStatuses, jobs: jobs,
            tenants: names.sorted().map {
                ClusterSnapshot.Tenant(name: $0, quota: configuration.quotas[$0], usage: self.usage(of: $0))
            })
    }

    /// The scheduler's state as its store holds it, loaded as `Scheduler.start` loads it but without
    /// placing anything: what `corral report --data-dir` reads.
    public static func loaded(from store: any StateStore, configuration: Configuration, now: Double) async throws
        -> SchedulerCore
    {
        let decoder = JSONDecoder()
        var core = SchedulerCore(configuration: configuration)
        for kv in try await store.list(prefix: "nodes/", limit: nil).items {
            core.restore(try decoder.decode(NodeRecord.self, from: Data(kv.value)), now: now)
        }
        var stored: [String: [TaskRecord]] = [:]
        for kv in try await store.list(prefix: "tasks/", limit: nil).items {
            let record = try decoder.decode(TaskRecord.self, from: Data(kv.value))
            stored[record.id.job, default: []].append(record)
        }
        let jobs = try await store.list(prefix: "jobs/", limit: nil).items.map {
            try decoder.decode(JobRecord.self, from: Data($0.value))
        }
        for job in jobs.sorted(by: { $0.sequence < $1.sequence }) {
            core.admit(job, stored: stored[job.id] ?? [], now: now)
        }
        return core
    }
}
