import CorralModel
import CorralProtocol
import Foundation
import Store

extension SchedulerCore {
    public func snapshot(now: Double) -> ClusterSnapshot {
        let jobs = allJobs.map { job in
            let tasks = self.tasks(of: job.id)
            return ClusterSnapshot.Job(
                id: job.id.rawValue, name: job.spec.name, tenant: job.spec.tenant, cpu: job.spec.resources.cpu,
                memory: job.spec.resources.memory, tasks: job.spec.count,
                active: tasks.filter { $0.state == .scheduled || $0.state == .running }.count,
                submittedAt: job.submittedAt)
        }
        let names = ledger.tenants.union(jobs.map(\.tenant))
        return ClusterSnapshot(
            time: now, nodes: nodeStatuses, jobs: jobs,
            tenants: names.sorted().map {
                ClusterSnapshot.Tenant(name: $0, quota: configuration.quotas[$0], usage: self.usage(of: $0))
            })
    }

    /// The scheduler's state as its store holds it, loaded as `Scheduler.start` loads it but without
    /// placing anything: what `corral report --data-dir` reads.
    /// A node record that does not decode or fails the checks a registration gets (one stored by an older
    /// scheduler that checked less) is skipped and reported to `skipped`: the node registers again.
    public static func loaded(
        from store: any StateStore, configuration: Configuration, now: Double,
        skipped: (String, String) -> Void = { _, _ in }
    ) async throws -> SchedulerCore {
        let decoder = JSONDecoder()
        var core = SchedulerCore(configuration: configuration)
        for kv in try await store.list(prefix: StoreKeys.nodes, limit: nil).items {
            guard let record = try? decoder.decode(NodeRecord.self, from: Data(kv.value)) else {
                skipped(kv.key, "does not decode")
                continue
            }
            let problems = record.registration.problems()
            guard problems.isEmpty else {
                skipped(kv.key, problems.map(\.description).joined(separator: "; "))
                continue
            }
            core.restore(record, now: now)
        }
        var stored: [JobID: [TaskRecord]] = [:]
        for kv in try await store.list(prefix: StoreKeys.tasks, limit: nil).items {
            let record = try decoder.decode(TaskRecord.self, from: Data(kv.value))
            stored[record.id.job, default: []].append(record)
        }
        let jobs = try await store.list(prefix: StoreKeys.jobs, limit: nil).items.map {
            try decoder.decode(JobRecord.self, from: Data($0.value))
        }
        var states: [String: [UInt8]] = [:]
        for kv in try await store.list(prefix: StoreKeys.schedules, limit: nil).items { states[kv.key] = kv.value }
        for job in jobs.sorted(by: { $0.sequence < $1.sequence }) {
            if job.spec.schedule != nil {
                let bytes = states[StoreKeys.schedule(job.id)]
                // A schedule whose state was never stored starts afresh.
                let state =
                    try bytes.map { try decoder.decode(ScheduleState.self, from: Data($0)) }
                    ?? core.firstState(of: job.spec.schedule!, now: now)
                core.admitSchedule(job, state: state, stored: bytes)
                continue
            }
            core.admit(job, stored: stored[job.id] ?? [], now: now)
            if let parent = job.schedule { core.schedules.addChild(job.id, fire: job.fire ?? 0, of: parent) }
        }
        return core
    }
}
