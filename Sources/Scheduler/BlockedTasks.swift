import CorralProtocol

/// Pending tasks that found no room (no node fits, or the tenant's quota is used up), by job, with why.
///
/// The tasks of one job ask for the same resources, so when something is released only each job's first
/// waiting task (its representative) goes back to the queue; the next follows when one is placed. A
/// release therefore costs one queue entry per waiting job, not per waiting task: 20,000 waiting tasks
/// of one job are not all re-examined each time a task ends. A quota release concerns only the tenant's
/// jobs waiting for quota; freed capacity concerns the jobs waiting for room.
struct BlockedTasks: Sendable {
    struct Job: Sendable {
        var tenant: String
        var reason: String
        var waitsForQuota: Bool
        /// Waiting tasks, lowest index first.
        var tasks: [TaskID]
    }

    private(set) var jobs: [JobID: Job] = [:]
    private var members: Set<TaskID> = []
    /// Jobs whose representative is in the queue now: not queued twice by several releases before a pass.
    private var requeued: Set<JobID> = []

    var isEmpty: Bool { jobs.isEmpty }
    var count: Int { members.count }
    func reason(job: JobID) -> String? { jobs[job]?.reason }

    /// A task that found no room: it waits (again) with the job's latest reason.
    mutating func block(_ task: TaskID, tenant: String, reason: String, waitsForQuota: Bool) {
        requeued.remove(task.job)
        var job = jobs[task.job] ?? Job(tenant: tenant, reason: reason, waitsForQuota: waitsForQuota, tasks: [])
        job.reason = reason
        job.waitsForQuota = waitsForQuota
        if members.insert(task).inserted {
            // Tasks arrive in queue order (by index); a representative that fails again is still first.
            if let last = job.tasks.last, last.index > task.index {
                job.tasks.insert(task, at: job.tasks.firstIndex { $0.index > task.index } ?? job.tasks.endIndex)
            } else {
                job.tasks.append(task)
            }
        }
        jobs[task.job] = job
    }

    /// A task that left the waiting list's concern (placed, cancelled, no longer pending): removed; the
    /// job's next waiting task, to be examined now, if it has one.
    mutating func resolved(_ task: TaskID) -> TaskID? {
        guard members.remove(task) != nil, var job = jobs[task.job] else { return nil }
        requeued.remove(task.job)
        job.tasks.removeAll { $0 == task }
        guard let next = job.tasks.first else {
            jobs[task.job] = nil
            return nil
        }
        jobs[task.job] = job
        requeued.insert(task.job)
        return next
    }

    /// A cancelled job waits for nothing.
    mutating func remove(job id: JobID) {
        for task in jobs.removeValue(forKey: id)?.tasks ?? [] { members.remove(task) }
        requeued.remove(id)
    }

    /// The representatives worth examining after a task of `tenant` released its resources: every job
    /// waiting for room, and `tenant`'s jobs waiting for quota. Nil `tenant`: every job (a node appeared).
    /// `roomOnly`: only the jobs waiting for room (a node's forecast changed).
    mutating func representatives(releasedBy tenant: String?, roomOnly: Bool = false) -> [TaskID] {
        var chosen: [TaskID] = []
        for (id, job) in jobs where !requeued.contains(id) {
            if roomOnly && job.waitsForQuota { continue }
            if let tenant, job.waitsForQuota, job.tenant != tenant { continue }  // another tenant's quota
            guard let first = job.tasks.first else { continue }
            requeued.insert(id)
            chosen.append(first)
        }
        return chosen
    }
}
