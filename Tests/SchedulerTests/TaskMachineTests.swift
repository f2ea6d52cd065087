import CorralModel
import Foundation
import Scheduler
import TestSupport
import Testing

/// Every state x every event: the transition table of DESIGN.md, checked exhaustively.
@Suite struct TaskMachineTests {
    static let events: [TaskMachine.Event] = [
        .placed(node: "n1"), .started, .exited(code: 0, detail: nil), .exited(code: 3, detail: nil), .crashed("oom"),
        .lost("node down"), .timedOut, .cancel, .evicted("drained"),
    ]

    /// A machine brought to `state` with attempts left (or none, for the last attempt).
    static func machine(in state: TaskState, lastAttempt: Bool = false) -> TaskMachine {
        var m = TaskMachine(maxAttempts: lastAttempt ? 1 : 3)
        switch state {
        case .pending: break
        case .scheduled: _ = m.handle(.placed(node: "n1"))
        case .running:
            _ = m.handle(.placed(node: "n1"))
            _ = m.handle(.started)
        case .completed:
            _ = m.handle(.placed(node: "n1"))
            _ = m.handle(.exited(code: 0, detail: nil))
        case .failed:
            m = TaskMachine(maxAttempts: 1)
            _ = m.handle(.placed(node: "n1"))
            _ = m.handle(.exited(code: 1, detail: nil))
        case .killed: _ = m.handle(.cancel)
        case .lost:
            m = TaskMachine(maxAttempts: 1)
            _ = m.handle(.placed(node: "n1"))
            _ = m.handle(.lost("gone"))
        }
        #expect(m.state == state)
        return m
    }

    static func expected(_ state: TaskState, _ event: TaskMachine.Event, lastAttempt: Bool) -> (
        TaskState, [TaskMachine.Action]
    ) {
        let retry: [TaskMachine.Action] = [.retry(attempt: 2)]
        switch (state, event) {
        case (.pending, .placed): return (.scheduled, [])
        case (.pending, .cancel): return (.killed, [])
        case (.scheduled, .started): return (.running, [])
        case (.scheduled, .exited(0, _)), (.running, .exited(0, _)): return (.completed, [.release(node: "n1")])
        case (.scheduled, .exited), (.running, .exited):
            return lastAttempt
                ? (.failed, [.release(node: "n1"), .deadLetter(error: "exited with status 3")])
                : (.pending, [.release(node: "n1")] + retry)
        case (.scheduled, .crashed), (.running, .crashed):
            return lastAttempt
                ? (.failed, [.release(node: "n1"), .deadLetter(error: "oom")])
                : (.pending, [.release(node: "n1")] + retry)
        case (.scheduled, .lost), (.running, .lost):
            return lastAttempt
                ? (.lost, [.release(node: "n1"), .deadLetter(error: "node down")])
                : (.pending, [.release(node: "n1")] + retry)
        case (.scheduled, .timedOut), (.running, .timedOut):
            return lastAttempt
                ? (.failed, [.kill(node: "n1"), .release(node: "n1"), .deadLetter(error: "timed out")])
                : (.pending, [.kill(node: "n1"), .release(node: "n1")] + retry)
        case (.scheduled, .cancel), (.running, .cancel): return (.killed, [.kill(node: "n1"), .release(node: "n1")])
        case (.scheduled, .evicted), (.running, .evicted):
            // Even on the last attempt: an eviction is the operator's doing, not the task's.
            return (.pending, [.kill(node: "n1"), .release(node: "n1")] + retry)
        default: return (state, [])
        }
    }

    @Test(arguments: TaskState.allCases, [false, true])
    func everyEventInEveryStateFollowsTheTable(state: TaskState, lastAttempt: Bool) {
        for event in Self.events {
            var m = Self.machine(in: state, lastAttempt: lastAttempt)
            let actions = m.handle(event)
            let (next, expectedActions) = Self.expected(state, event, lastAttempt: lastAttempt || state.isTerminal)
            #expect(m.state == next, "\(state) + \(event)")
            #expect(actions == expectedActions, "\(state) + \(event)")
        }
    }

    @Test func aTaskRunsAtMostMaxAttemptsThenIsDeadLettered() {
        var m = TaskMachine(maxAttempts: 3)
        for attempt in 1...3 {
            _ = m.handle(.placed(node: "n\(attempt)"))
            #expect(m.attempt == attempt)
            _ = m.handle(.crashed("boom \(attempt)"))
        }
        #expect(m.state == .failed)
        #expect(m.isDeadLetter)
        #expect(m.lastError == "boom 3")
        #expect(m.handle(.placed(node: "n4")).isEmpty, "a dead task is never placed again")
    }

    @Test func anEvictedAttemptDoesNotCountAgainstMaxAttempts() throws {
        var m = TaskMachine(maxAttempts: 1)
        _ = m.handle(.placed(node: "n1"))
        _ = m.handle(.started)
        #expect(m.handle(.evicted("drained")) == [.kill(node: "n1"), .release(node: "n1"), .retry(attempt: 2)])
        #expect(m.state == .pending)
        #expect(m.attempt == 1 && m.evictions == 1 && m.attemptsUsed == 0)
        _ = m.handle(.placed(node: "n2"))
        #expect(m.attempt == 2, "a new attempt number, so the new allocation has a name of its own")
        _ = m.handle(.crashed("boom"))
        #expect(m.state == .failed && m.isDeadLetter, "the one attempt it has is the second run")
    }

    @Test func storedMachinesWithoutEvictionsDecodeAndEvictionsRoundTrip() throws {
        let old = #"{"state":"running","attempt":2,"maxAttempts":3,"node":"n1","lastNode":"n1"}"#
        let decoded = try JSONDecoder().decode(TaskMachine.self, from: Data(old.utf8))
        #expect(decoded.evictions == 0 && decoded.attempt == 2 && decoded.node == "n1")
        var m = decoded
        _ = m.handle(.evicted("drained"))
        let again = try JSONDecoder().decode(TaskMachine.self, from: JSONEncoder().encode(m))
        #expect(again == m)
    }
}
