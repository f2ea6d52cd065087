import CorralModel
import Sandbox
import Testing

@Suite struct TaskLifecycleTests {
    typealias L = TaskLifecycle

    /// A machine driven into `state` by the events that lead there.
    static func machine(in state: L.State) -> L {
        var machine = L()
        switch state {
        case .running: break
        case .terminating: _ = machine.handle(.stopRequested)
        case .killing: _ = machine.handle(.killRequested)
        case .exited(let status): _ = machine.handle(.exited(status))
        }
        #expect(machine.state == state)
        return machine
    }

    static let states: [L.State] = [.running, .terminating, .killing, .exited(.exited(0))]
    static let events: [L.Event] = [.timeout, .stopRequested, .graceExpired, .killRequested, .exited(.signaled(9))]

    /// Every (state, event) pair: the next state and the actions.
    static func expected(_ state: L.State, _ event: L.Event) -> (L.State, [L.Action]) {
        switch (state, event) {
        case (.running, .timeout), (.running, .stopRequested):
            return (.terminating, [.signalTerminate, .startGraceTimer])
        case (.running, .killRequested), (.terminating, .killRequested), (.terminating, .graceExpired):
            return (.killing, [.killCgroup])
        case (.exited, _): return (state, [])
        case (_, .exited(let status)): return (.exited(status), [.cancelTimers, .collect(status)])
        default: return (state, [])
        }
    }

    @Test(arguments: states, events)
    func everyTransition(state: L.State, event: L.Event) {
        var machine = Self.machine(in: state)
        let actions = machine.handle(event)
        let (next, expectedActions) = Self.expected(state, event)
        #expect(machine.state == next, "\(state) + \(event)")
        #expect(actions == expectedActions, "\(state) + \(event)")
    }

    @Test func aTimeoutIsRememberedThroughToTheExit() {
        var machine = L()
        _ = machine.handle(.timeout)
        _ = machine.handle(.graceExpired)
        _ = machine.handle(.exited(.signaled(9)))
        #expect(machine.timedOut)
        var stopped = L()
        _ = stopped.handle(.stopRequested)
        _ = stopped.handle(.timeout)
        #expect(!stopped.timedOut, "a stop requested before the timeout is not a timeout")
    }
}
