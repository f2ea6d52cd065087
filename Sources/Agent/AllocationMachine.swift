import CorralModel
import CorralProtocol

/// One allocation's lifecycle on its node as a value: events in, actions out, no I/O (STYLE.md 3).
/// The `Agent` actor carries out the actions; this type decides them, so its table is tested
/// exhaustively (every state x every event) without processes.
///
/// accepted -> launching -> running -> ended -> released, with a kill request possible in any state
/// (remembered until the task runs, then carried out; an ended allocation reports it was killed), a
/// launch that fails going straight to ended, and after an agent restart: a running record adopted again
/// or found ended, and a launch the restart cut short undone and reported failed.
public struct AllocationMachine: Sendable, Equatable {
    public enum State: Sendable, Hashable {
        /// Received from the scheduler; nothing done yet.
        case accepted
        /// Its record is written and the sandbox launch is under way.
        case launching
        /// The task runs (launched here, or adopted after a restart).
        case running
        /// The task ended; its report waits for a heartbeat to deliver it.
        case ended
        /// The scheduler has the report: the allocation's files are recycled, nothing is left to do.
        case released
    }

    public enum Event: Sendable, Equatable {
        case launch
        case launched
        /// The launch failed; `nodeFault`: for the node's own reason, not the task's (`AllocationReport.nodeFault`).
        case launchFailed(String, nodeFault: Bool = false)
        /// The task ended (or was found ended after a restart).
        case exited(TaskOutcome)
        case killRequested
        /// The agent stops a reclaimable task to relieve its node (`PressureRelief`), for this reason.
        case evict(String)
        /// A heartbeat carrying the final report was answered.
        case reportDelivered
        /// After a restart, the record said a launch was under way (or running without a way to find the
        /// task): it may have half happened.
        case launchCutShort
    }

    public enum Action: Sendable, Equatable {
        /// Write the allocation's record (the state and what the actor keeps beside it).
        case persist
        /// Start the task in its sandbox.
        case startTask
        /// Stop the running task (the scheduler asked).
        case stopTask
        /// Kill and remove whatever a cut-short launch left (cgroups, work directory).
        case undoLaunch
        /// Heartbeat soon: there is news for the scheduler.
        case announce
        /// Recycle the allocation's files; forget it.
        case release
    }

    public let id: AllocationID
    public private(set) var state: State
    public private(set) var killRequested: Bool
    /// The final report, once ended.
    public private(set) var report: AllocationReport?
    /// Why the agent evicted the task, when it did (its end is then reported as an eviction).
    public private(set) var evicted: String?

    public init(id: AllocationID) {
        self.init(id: id, state: .accepted, killRequested: false, report: nil)
    }

    /// A machine as a record on disk left it.
    public init(id: AllocationID, state: State, killRequested: Bool, report: AllocationReport?, evicted: String? = nil)
    {
        self.id = id
        self.state = state
        self.killRequested = killRequested
        self.report = report
        self.evicted = evicted
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.accepted, .launch):
            state = .launching
            return [.persist, .startTask]
        case (.launching, .launched):
            state = .running
            return killRequested ? [.persist, .stopTask, .announce] : [.persist, .announce]
        case (.accepted, .launchFailed(let why, let nodeFault)), (.launching, .launchFailed(let why, let nodeFault)):
            return end(AllocationReport(id: id, state: .failed, error: why, nodeFault: nodeFault ? true : nil))
        case (.accepted, .launchCutShort), (.launching, .launchCutShort), (.running, .launchCutShort):
            let why = "the agent restarted while launching the task; the launch was undone"
            return [.undoLaunch] + end(AllocationReport(id: id, state: .failed, error: why))
        case (.launching, .exited(let outcome)), (.running, .exited(let outcome)):
            return end(.ended(id: id, outcome: outcome, killRequested: killRequested, evicted: evicted))
        case (.accepted, .killRequested), (.launching, .killRequested):
            guard !killRequested else { return [] }
            killRequested = true
            return state == .launching ? [.persist] : []
        case (.running, .killRequested):
            guard !killRequested else { return [] }
            killRequested = true
            return [.persist, .stopTask]
        case (.running, .evict(let why)):
            guard !killRequested else { return [] }
            killRequested = true
            evicted = why
            return [.persist, .stopTask]
        case (.accepted, .evict), (.launching, .evict), (.ended, .evict):
            return []  // only a running task is evicted
        case (.ended, .reportDelivered):
            state = .released
            return [.release]
        case (.accepted, .launched), (.accepted, .exited), (.accepted, .reportDelivered),
            (.launching, .launch), (.launching, .reportDelivered),
            (.running, .launch), (.running, .launched), (.running, .launchFailed), (.running, .reportDelivered),
            (.ended, .launch), (.ended, .launched), (.ended, .launchFailed), (.ended, .exited),
            (.ended, .killRequested),
            (.ended, .launchCutShort),
            (.released, _):
            return []  // out of order or repeated (a second kill, a report delivered twice): nothing to do
        }
    }

    private mutating func end(_ report: AllocationReport) -> [Action] {
        state = .ended
        self.report = report
        return [.persist, .announce]
    }
}

extension AllocationReport {
    /// How an ended task is reported: killed on request, or exited with the code a shell would show and,
    /// when it did not succeed, why (out of memory, timed out, the signal).
    public static func ended(
        id: AllocationID, outcome: TaskOutcome, killRequested: Bool, evicted: String? = nil
    ) -> AllocationReport {
        let usage = AllocationUsage(
            cpuUsec: outcome.cpuUserUsec + outcome.cpuSystemUsec, memoryBytes: outcome.memoryPeakBytes,
            ioReadBytes: outcome.ioReadBytes, ioWriteBytes: outcome.ioWriteBytes, pids: 0)
        if let evicted {
            return AllocationReport(
                id: id, state: .killed, exitCode: outcome.shellStatus, error: evicted, usage: usage, outcome: outcome,
                evicted: evicted)
        }
        if killRequested {
            return AllocationReport(
                id: id, state: .killed, exitCode: outcome.shellStatus, error: "stopped at the scheduler's request",
                usage: usage, outcome: outcome)
        }
        var error: String?
        if outcome.oomKilled {
            error = "out of memory: the task reached its memory limit and the kernel killed it"
        } else if outcome.timedOut {
            error = "timed out"
        } else if let signal = outcome.signal {
            error = "killed by signal \(signal)"
        } else if let code = outcome.exitCode, code != 0 {
            error = "exit code \(code)"
        }
        return AllocationReport(
            id: id, state: .exited, exitCode: outcome.shellStatus, error: error, usage: usage, outcome: outcome)
    }
}
