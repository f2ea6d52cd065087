import CorralProtocol

/// What the scheduler must do at a time: retry a task after its backoff, fail a run past its timeout.
struct Timers: Sendable {
    private var retries: [(at: Double, task: TaskID)] = []
    /// Running tasks with a timeout: when each run started and when it must have ended.
    private var deadlines: [(at: Double, task: TaskID, started: Double)] = []

    mutating func retry(_ task: TaskID, at time: Double) { retries.append((time, task)) }

    mutating func deadline(_ task: TaskID, at time: Double, runStartedAt started: Double) {
        deadlines.append((time, task, started))
    }

    /// Retries due at `now`, removed.
    mutating func dueRetries(now: Double) -> [TaskID] {
        let due = retries.filter { $0.at <= now }.map(\.task)
        retries.removeAll { $0.at <= now }
        return due
    }

    /// Deadlines passed at `now`, removed, each with the start of the run it was set for.
    mutating func expiredDeadlines(now: Double) -> [(task: TaskID, started: Double)] {
        let expired = deadlines.filter { $0.at < now }.map { ($0.task, $0.started) }
        deadlines.removeAll { $0.at < now }
        return expired
    }
}
