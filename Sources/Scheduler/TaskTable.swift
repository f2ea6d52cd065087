import CorralModel
import CorralProtocol

/// Every job and task record the scheduler holds, with the two indexes it needs: a job's tasks in
/// index order, and the task an allocation belongs to while it is placed.
struct TaskTable: Sendable {
    private(set) var jobs: [JobID: JobRecord] = [:]
    private(set) var tasks: [TaskID: TaskRecord] = [:]
    private var tasksOfJob: [JobID: [TaskID]] = [:]
    /// Placed allocations (scheduled or running) and their tasks.
    private(set) var allocations: [AllocationID: TaskID] = [:]
    /// The submission sequence the next job gets.
    private(set) var nextSequence: Int64 = 1
    /// Per tenant: tasks not yet ended (queued, placed or running), and jobs with any such task. Kept as
    /// records change, so admission checks them without a scan.
    private(set) var unfinishedTasks: [String: Int] = [:]
    private(set) var openJobs: [String: Int] = [:]
    private var unfinishedOfJob: [JobID: Int] = [:]

    func job(_ id: JobID) -> JobRecord? { jobs[id] }
    subscript(task: TaskID) -> TaskRecord? { tasks[task] }
    func taskIDs(of job: JobID) -> [TaskID] { tasksOfJob[job] ?? [] }
    func tasks(of job: JobID) -> [TaskRecord] { taskIDs(of: job).compactMap { tasks[$0] } }
    func task(of allocation: AllocationID) -> TaskID? { allocations[allocation] }
    var allJobs: [JobRecord] { jobs.values.sorted { $0.sequence < $1.sequence } }

    /// A new job's record, with the next submission sequence.
    mutating func makeJob(_ spec: JobSpec, id: JobID, now: Double) -> JobRecord {
        defer { nextSequence += 1 }
        return JobRecord(id: id, spec: spec, sequence: nextSequence, submittedAt: now)
    }

    /// Adds a job with its task records (all of them, in index order).
    mutating func insert(_ job: JobRecord, tasks records: [TaskRecord]) {
        jobs[job.id] = job
        nextSequence = max(nextSequence, job.sequence + 1)
        tasksOfJob[job.id] = records.map(\.id)
        for record in records {
            if let old = tasks[record.id], !old.state.isTerminal { count(old.id.job, by: -1) }
            if !record.state.isTerminal { count(job.id, by: 1) }
            tasks[record.id] = record
            if let allocation = record.allocation, record.state.isPlaced, record.machine.node != nil {
                allocations[allocation] = record.id
            }
        }
    }

    mutating func markCancelled(_ job: JobID) { jobs[job]?.cancelled = true }

    /// A job's record changed (its count), its tasks kept.
    mutating func replace(_ job: JobRecord) { jobs[job.id] = job }

    /// Whether the job has a task not yet ended.
    func isOpen(_ job: JobID) -> Bool { unfinishedOfJob[job] != nil }

    /// Jobs with no unfinished task.
    var endedJobs: [JobID] { jobs.keys.filter { unfinishedOfJob[$0] == nil } }

    /// Forgets an ended job and its tasks (a job with unfinished tasks is kept).
    mutating func remove(job id: JobID) {
        guard jobs[id] != nil, unfinishedOfJob[id] == nil else { return }
        for task in tasksOfJob.removeValue(forKey: id) ?? [] {
            if let allocation = tasks.removeValue(forKey: task)?.allocation { allocations[allocation] = nil }
        }
        jobs[id] = nil
    }

    /// Stores a changed record and keeps the allocation index in step with it.
    mutating func update(_ record: TaskRecord) {
        let wasUnfinished = tasks[record.id].map { !$0.state.isTerminal } ?? false
        if wasUnfinished != !record.state.isTerminal { count(record.id.job, by: wasUnfinished ? -1 : 1) }
        if let old = tasks[record.id]?.allocation, old != record.allocation { allocations[old] = nil }
        tasks[record.id] = record
        if let allocation = record.allocation { allocations[allocation] = record.id }
    }

    /// One task of `job` became unfinished (+1) or finished (-1): the tenant's counts follow.
    private mutating func count(_ job: JobID, by change: Int) {
        guard let tenant = jobs[job]?.spec.tenant else { return }
        let before = unfinishedOfJob[job] ?? 0
        let after = before + change
        unfinishedOfJob[job] = after == 0 ? nil : after
        unfinishedTasks[tenant, default: 0] += change
        if before == 0 && after > 0 { openJobs[tenant, default: 0] += 1 }
        if before > 0 && after == 0 { openJobs[tenant, default: 0] -= 1 }
    }

    /// Tasks placed (scheduled or running) on `node`, in id order.
    func placed(on node: NodeID) -> [TaskID] {
        allocations.values.filter { tasks[$0]?.machine.node == node }.sorted()
    }

    var deadLetters: [TaskRecord] { tasks.values.filter { $0.machine.isDeadLetter }.sorted { $0.id < $1.id } }
}
