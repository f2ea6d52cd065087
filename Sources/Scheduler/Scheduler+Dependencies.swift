import CorralModel
import CorralProtocol
import Logging
import Store

/// Jobs with upstream jobs, and workflows: several jobs with edges, stored in one transaction.
extension Scheduler {
    /// Submits a workflow: every job is checked against its tenant's quota and limits, its edges are
    /// resolved (to a job of the workflow by name, else to a job already submitted), and all of it is
    /// stored in one transaction before anyone hears of it.
    public func submit(workflow: Workflow) async throws -> [JobRecord] {
        for spec in workflow.jobs {
            if let why = core.rejection(of: spec) { throw SchedulerError.overQuota("\(spec.name): \(why)") }
        }
        if let schedule = workflow.schedule, let name = workflow.name {
            var spec = workflow.jobs[0]
            spec.name = name
            spec.schedule = schedule
            spec.dependsOn = []
            return [try await submitSchedule(schedule, spec, workflow: workflow.jobs)]
        }
        var total = workflow.jobs[0]
        total.count = workflow.jobs.reduce(0) { $0 + $1.count }
        if let why = core.overLimit(total) { throw SchedulerError.overLimit(why) }
        let ids = Dictionary(
            workflow.jobs.map { ($0.name, Self.newJobID()) }, uniquingKeysWith: { a, _ in a })
        var records: [JobRecord] = []
        for (index, spec) in workflow.jobs.enumerated() {
            var spec = spec
            var nodes: [NodeID]?
            if spec.placement == .eachNode {
                guard let broadcast = core.broadcast(spec) else {
                    throw SchedulerError.noNodes("jobs[\(index)]: " + Self.noNodes(spec))
                }
                (spec, nodes) = (broadcast.spec, broadcast.nodes)
            }
            var record = core.makeJobRecord(spec, id: ids[spec.name]!, now: now())
            record.nodes = nodes
            record.upstream = try resolve(spec, siblings: ids, field: "jobs[\(index)].dependsOn")
            records.append(record)
        }
        let ops = try records.map { Op.put(StoreKeys.job($0.id), try encode($0)) }
        guard store.fits(ops) else {
            throw SchedulerError.invalid(
                field: "jobs", "\(records.count) jobs do not fit in one transaction of the store: submit fewer at once")
        }
        _ = try await store.txn(then: ops)
        for record in records { core.admit(record, now: now()) }
        logger.info("workflow submitted", metadata: ["jobs": "\(records.map(\.id.rawValue))"])
        try await persist([])
        Task {
            do { try await self.schedule() } catch {
                self.logger.error("placement after a submission failed", metadata: ["error": "\(error)"])
            }
        }
        return records
    }

    /// A spec's `dependsOn` as job ids; an entry naming no job of the tenant (or a schedule) is refused,
    /// naming the entry.
    func resolve(_ spec: JobSpec, siblings: [String: JobID] = [:], field: String = "dependsOn") throws
        -> [JobRecord.Upstream]?
    {
        guard !spec.dependsOn.isEmpty else { return nil }
        return try spec.dependsOn.enumerated().map { index, dependency in
            if let sibling = siblings[dependency.job] { return .init(job: sibling, on: dependency.on) }
            if let id = JobID(dependency.job), let schedule = core.schedule(id), schedule.job.spec.tenant == spec.tenant
            {
                throw SchedulerError.invalid(
                    field: "\(field)[\(index)].job",
                    "\(dependency.job) is a schedule, which never ends: name one of its runs")
            }
            guard let upstream = core.upstreamJob(named: dependency.job, tenant: spec.tenant) else {
                throw SchedulerError.invalid(
                    field: "\(field)[\(index)].job", "no job \(dependency.job) of tenant \(spec.tenant)")
            }
            return .init(job: upstream.id, on: dependency.on)
        }
    }

    /// The jobs connected to `id` by edges, and the edges.
    public func graph(of id: JobID) -> (jobs: [JobRecord], edges: [(JobID, JobID, Dependency.Condition)]) {
        core.graph(of: id)
    }
}
