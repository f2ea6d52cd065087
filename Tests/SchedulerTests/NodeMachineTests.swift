import Testing

@testable import Scheduler

/// Every state x every event of a node's lifecycle on the scheduler.
@Suite struct NodeMachineTests {
    static let ttl = 15.0

    /// One machine in each state, last heard from (or restored until) t = 100.
    static let states: [(String, NodeMachine)] = {
        var down = NodeMachine(registeredAt: 100)
        _ = down.handle(.tick(at: 200, ttl: ttl))
        return [
            ("restored", NodeMachine(restoredAt: 70, grace: 30)), ("ready", NodeMachine(registeredAt: 100)),
            ("down", down),
        ]
    }()

    @Test func theStartingStatesAreWhatTheTableAssumes() {
        #expect(Self.states.map(\.1.state) == [.restored(until: 100), .ready(lastSeen: 100), .down(lastSeen: 100)])
        #expect(Self.states.map(\.1.isReady) == [true, true, false])
        #expect(Self.states.allSatisfy { $0.1.lastSeen == 100 })
    }

    /// A registration and a heartbeat alike: the node is ready, and only a down one is marked so again.
    @Test(arguments: 0..<3, [NodeMachine.Event.registered(at: 150), .heartbeat(at: 150)])
    func hearingFromANodeMakesItReadyAndOnlyADownOneIsMarkedReadyAgain(_ row: Int, _ event: NodeMachine.Event) {
        var machine = Self.states[row].1
        let actions = machine.handle(event)
        #expect(machine.state == .ready(lastSeen: 150))
        #expect(actions == (Self.states[row].0 == "down" ? [.markReady] : []))
    }

    @Test(arguments: 0..<3)
    func aRestoreGivesAnyNodeItsGracePeriod(_ row: Int) {
        var machine = Self.states[row].1
        let actions = machine.handle(.restored(at: 150, grace: 30))
        #expect(machine.state == .restored(until: 180))
        #expect(machine.isReady)
        #expect(actions == (Self.states[row].0 == "down" ? [.markReady] : []))
    }

    @Test(arguments: 0..<3)
    func aTickWithinTheTTLChangesNothing(_ row: Int) {
        var machine = Self.states[row].1
        #expect(machine.handle(.tick(at: 100 + Self.ttl, ttl: Self.ttl)).isEmpty)
        #expect(machine == Self.states[row].1)
    }

    @Test(arguments: 0..<3)
    func aTickPastTheTTLTakesALiveNodeDownOnceAndKeepsWhenItWasLastSeen(_ row: Int) {
        var machine = Self.states[row].1
        let actions = machine.handle(.tick(at: 100 + Self.ttl + 0.001, ttl: Self.ttl))
        #expect(machine.state == .down(lastSeen: 100))
        #expect(actions == (Self.states[row].0 == "down" ? [] : [.markDown]))
        #expect(machine.handle(.tick(at: 1000, ttl: Self.ttl)).isEmpty)
    }

    @Test func aRestoredNodeIsNotJudgedBeforeItsGraceEnds() {
        var machine = NodeMachine(restoredAt: 100, grace: 30)
        #expect(machine.handle(.tick(at: 100 + Self.ttl + 1, ttl: Self.ttl)).isEmpty)
        #expect(machine.handle(.tick(at: 130 + Self.ttl + 1, ttl: Self.ttl)) == [.markDown])
    }
}
