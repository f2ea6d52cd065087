import CorralModel
import CorralProtocol

/// Job graphs: a job with upstream jobs waits until they end, then runs (its tasks are queued) or is
/// skipped (its tasks end killed, with the upstream named), which may in turn settle the jobs after it.
extension SchedulerCore {
    /// How an ended job ended, as conditions see it.
    public enum Outcome: String, Sendable {
        case success, failure, skipped
    }

    /// How `job` ended, or nil while it has a task not ended.
    public func outcome(of job: JobID) -> Outcome? {
        guard let record = table.job(job), !table.isOpen(job) else { return nil }
        if record.skipped != nil { return .skipped }
        let completed = table.tasks(of: job).allSatisfy { $0.state == .completed }
        return completed && !record.cancelled ? .success : .failure
    }

    enum Decision: Equatable {
        case wait(String)
        case release
        case skip(String)
    }

    func decision(for job: JobRecord) -> Decision {
        var waitingFor: [String] = []
        for edge in job.upstream ?? [] {
            guard let upstream = table.job(edge.job) else {
                return .skip("skipped: upstream job \(edge.job) is gone")
            }
            guard let outcome = outcome(of: edge.job) else {
                waitingFor.append("\(edge.job) (\(upstream.spec.name))")
                continue
            }
            let met =
                switch edge.on {
                case .success: outcome == .success
                case .failure: outcome == .failure
                case .any: true
                }
            if !met {
                return .skip(
                    "skipped: upstream job \(edge.job) (\(upstream.spec.name)) ended \(outcome.rawValue), "
                        + "and this job runs on its \(edge.on.rawValue)")
            }
        }
        if waitingFor.isEmpty { return .release }
        return .wait("waiting for job " + waitingFor.joined(separator: ", "))
    }

    /// Looks again at every job whose upstream jobs ended (or that just came in): released jobs' tasks are
    /// queued, skipped jobs' tasks end killed. Returns the task and job records that changed, to be stored.
    public mutating func settleDependencies(now: Double) -> (tasks: [TaskRecord], jobs: [JobRecord]) {
        var tasks: [TaskRecord] = []
        var jobs: [JobRecord] = []
        while let id = graph.nextUnsettled() {
            guard var job = table.job(id), job.holdsForUpstream else {
                graph.waiting[id] = nil
                continue
            }
            switch decision(for: job) {
            case .wait(let reason):
                graph.waiting[id] = reason
            case .release:
                graph.waiting[id] = nil
                job.released = true
                table.replace(job)
                jobs.append(job)
                for task in table.taskIDs(of: id) where table[task]?.state == .pending { enqueue(task) }
            case .skip(let reason):
                graph.waiting[id] = nil
                job.skipped = reason
                table.replace(job)
                jobs.append(job)
                blocked.remove(job: id)
                for task in table.taskIDs(of: id) where !(table[task]?.state.isTerminal ?? true) {
                    if let record = apply(.cancel, to: task, now: now) { tasks.append(record) }
                }
            }
        }
        return (tasks, jobs)
    }

    /// The jobs connected to `id` through edges either way (its whole graph), and the edges among them.
    public func graph(of id: JobID, limit: Int = 1000) -> (
        jobs: [JobRecord], edges: [(JobID, JobID, Dependency.Condition)]
    ) {
        var seen: Set<JobID> = [id]
        var queue = [id]
        var edges: [(JobID, JobID, Dependency.Condition)] = []
        while !queue.isEmpty, seen.count < limit {
            let current = queue.removeFirst()
            guard let job = table.job(current) else { continue }
            for edge in job.upstream ?? [] {
                edges.append((edge.job, current, edge.on))
                if seen.insert(edge.job).inserted { queue.append(edge.job) }
            }
            for next in (graph.downstream[current] ?? []).sorted() where seen.insert(next).inserted {
                queue.append(next)
            }
        }
        let jobs = seen.compactMap { table.job($0) }.sorted { $0.sequence < $1.sequence }
        return (jobs, edges)
    }

    /// The job a `dependsOn` entry of tenant `tenant` names: an id of one of its jobs, else the latest of
    /// its jobs with that name. Nil when there is none (schedules are never upstream: they never end).
    public func upstreamJob(named text: String, tenant: String) -> JobRecord? {
        if let id = JobID(text), let job = table.job(id), job.spec.tenant == tenant { return job }
        return table.jobs.values.filter { $0.spec.tenant == tenant && $0.spec.name == text }.max {
            $0.sequence < $1.sequence
        }
    }
}
