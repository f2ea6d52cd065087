import CorralModel

/// The life of one sandboxed task as a pure state machine: events in, actions out. `SandboxedTask`
/// carries the actions out; the transition table is tested exhaustively without processes.
///
///     running --timeout/stop--> terminating --grace expired--> killing
///        |  \________________kill______________________________/  |
///        +--------------------exited (from any live state)--------+--> exited
public struct TaskLifecycle: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case running
        /// SIGTERM was sent; the grace timer runs.
        case terminating
        /// The cgroup was killed; waiting for PID 1 to be reaped.
        case killing
        case exited(ExitStatus)
    }

    public enum Event: Sendable, Equatable {
        case timeout
        case stopRequested
        case graceExpired
        case killRequested
        /// PID 1 was reaped with this status.
        case exited(ExitStatus)
    }

    public enum Action: Sendable, Equatable {
        /// Send SIGTERM to PID 1, which forwards it to the task.
        case signalTerminate
        case startGraceTimer
        /// Write cgroup.kill (or freeze and SIGKILL every process).
        case killCgroup
        case cancelTimers
        /// Read the final status and statistics, kill stragglers, remove the cgroup and work dir.
        case collect(ExitStatus)
    }

    public private(set) var state: State = .running
    /// The task was stopped because it ran past its timeout.
    public private(set) var timedOut = false

    public init() {}

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.running, .timeout):
            timedOut = true
            state = .terminating
            return [.signalTerminate, .startGraceTimer]
        case (.running, .stopRequested):
            state = .terminating
            return [.signalTerminate, .startGraceTimer]
        case (.running, .killRequested), (.terminating, .killRequested), (.terminating, .graceExpired):
            state = .killing
            return [.killCgroup]
        case (.running, .exited(let status)), (.terminating, .exited(let status)), (.killing, .exited(let status)):
            state = .exited(status)
            return [.cancelTimers, .collect(status)]
        case (.running, .graceExpired),  // a stale timer: nothing was being stopped
            (.terminating, .timeout), (.terminating, .stopRequested),
            (.killing, .timeout), (.killing, .stopRequested), (.killing, .graceExpired), (.killing, .killRequested),
            (.exited, _):
            return []
        }
    }
}
