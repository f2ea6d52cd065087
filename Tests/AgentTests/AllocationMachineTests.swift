import CorralModel
import CorralProtocol
import TestSupport
import Testing

@testable import Agent

/// Every state x every event of an allocation's lifecycle on its node.
@Suite struct AllocationMachineTests {
    typealias M = AllocationMachine
    static let id: AllocationID = "j1.0.1"
    static let outcome = TaskOutcome(exitCode: 0, signal: nil, oomKilled: false, timedOut: false)

    static let events: [(String, M.Event)] = [
        ("launch", .launch), ("launched", .launched), ("launchFailed", .launchFailed("no such file")),
        ("exited", .exited(outcome)), ("killRequested", .killRequested), ("reportDelivered", .reportDelivered),
        ("launchCutShort", .launchCutShort), ("evict", .evict("evicted: node pressure")),
    ]

    /// A machine in `state`, reached through events (ended: by a clean exit).
    static func machine(_ state: M.State, killed: Bool = false) -> M {
        var m = M(id: id)
        let path: [M.Event] =
            switch state {
            case .accepted: []
            case .launching: [.launch]
            case .running: [.launch, .launched]
            case .ended: [.launch, .launched, .exited(outcome)]
            case .released: [.launch, .launched, .exited(outcome), .reportDelivered]
            }
        if killed { _ = m.handle(.killRequested) }
        for event in path { _ = m.handle(event) }
        #expect(m.state == state)
        return m
    }

    /// The whole table: state, event -> next state and actions, for a machine never asked to kill.
    static let table: [M.State: [String: (M.State, [M.Action])]] = [
        .accepted: [
            "launch": (.launching, [.persist, .startTask]), "launched": (.accepted, []),
            "launchFailed": (.ended, [.persist, .announce]), "exited": (.accepted, []),
            "killRequested": (.accepted, []), "reportDelivered": (.accepted, []),
            "launchCutShort": (.ended, [.undoLaunch, .persist, .announce]), "evict": (.accepted, []),
        ],
        .launching: [
            "launch": (.launching, []), "launched": (.running, [.persist, .announce]),
            "launchFailed": (.ended, [.persist, .announce]), "exited": (.ended, [.persist, .announce]),
            "killRequested": (.launching, [.persist]), "reportDelivered": (.launching, []),
            "launchCutShort": (.ended, [.undoLaunch, .persist, .announce]), "evict": (.launching, []),
        ],
        .running: [
            "launch": (.running, []), "launched": (.running, []), "launchFailed": (.running, []),
            "exited": (.ended, [.persist, .announce]), "killRequested": (.running, [.persist, .stopTask]),
            "reportDelivered": (.running, []), "launchCutShort": (.ended, [.undoLaunch, .persist, .announce]),
            "evict": (.running, [.persist, .stopTask]),
        ],
        .ended: [
            "launch": (.ended, []), "launched": (.ended, []), "launchFailed": (.ended, []), "exited": (.ended, []),
            "killRequested": (.ended, []), "reportDelivered": (.released, [.release]), "launchCutShort": (.ended, []),
            "evict": (.ended, []),
        ],
        .released: [
            "launch": (.released, []), "launched": (.released, []), "launchFailed": (.released, []),
            "exited": (.released, []), "killRequested": (.released, []), "reportDelivered": (.released, []),
            "launchCutShort": (.released, []), "evict": (.released, []),
        ],
    ]

    @Test(arguments: [M.State.accepted, .launching, .running, .ended, .released])
    func everyEventInEveryStateDoesWhatTheTableSays(_ state: M.State) throws {
        for (name, event) in Self.events {
            var m = Self.machine(state)
            let (next, actions) = try #require(Self.table[state]?[name])
            #expect(m.handle(event) == actions, "\(state) + \(name)")
            #expect(m.state == next, "\(state) + \(name)")
        }
    }

    @Test func aKillRequestedBeforeTheLaunchStopsTheTaskAsSoonAsItRuns() {
        var m = Self.machine(.accepted, killed: true)
        #expect(m.killRequested)
        #expect(m.handle(.launch) == [.persist, .startTask])
        #expect(m.handle(.launched) == [.persist, .stopTask, .announce])
        #expect(m.handle(.killRequested).isEmpty)  // asked again: already on its way
    }

    @Test func aKilledTaskIsReportedKilledAndAnUnkilledOneExited() {
        var killed = Self.machine(.running)
        _ = killed.handle(.killRequested)
        _ = killed.handle(.exited(TaskOutcome(exitCode: nil, signal: 9, oomKilled: false, timedOut: false)))
        #expect(killed.report?.state == .killed)
        var plain = Self.machine(.running)
        _ = plain.handle(.exited(TaskOutcome(exitCode: 3, signal: nil, oomKilled: false, timedOut: false)))
        #expect(plain.report?.state == .exited)
        #expect(plain.report?.exitCode == 3)
        #expect(plain.report?.error == "exit code 3")
    }

    @Test func anEvictedTaskIsReportedAsAnEvictionAndItsRecordKeepsWhy() {
        var m = Self.machine(.running)
        #expect(m.handle(.evict("evicted: node pressure (40% of time stalled)")) == [.persist, .stopTask])
        #expect(m.handle(.killRequested).isEmpty, "already on its way")
        let record = StoredAllocation(
            allocation: Allocation(
                id: Self.id, tenant: "t", command: ["sh"], resources: Resources(), reclaimable: true),
            machine: m, adoption: nil, network: nil)
        #expect(record.machine == m, "an agent restarted mid-eviction still reports it as one")
        _ = m.handle(.exited(TaskOutcome(exitCode: nil, signal: 15, oomKilled: false, timedOut: false)))
        #expect(m.report?.state == .killed)
        #expect(m.report?.evicted == "evicted: node pressure (40% of time stalled)")
    }

    @Test func aFailedOrCutShortLaunchIsReportedFailedWithWhy() {
        var failed = Self.machine(.launching)
        _ = failed.handle(.launchFailed("exec /nope: No such file or directory"))
        #expect(
            failed.report
                == AllocationReport(id: Self.id, state: .failed, error: "exec /nope: No such file or directory"))
        var cut = Self.machine(.launching)
        _ = cut.handle(.launchCutShort)
        #expect(cut.report?.state == .failed)
        #expect(cut.report?.error?.contains("restarted while launching") == true)
    }

    @Test func aRecordOnDiskGivesBackTheMachineItWasWrittenFrom() {
        let allocation = Allocation(
            id: Self.id, tenant: "t", command: ["/bin/true"], resources: Resources(cpu: 1, memory: 1 << 20))
        for state in [M.State.launching, .running, .ended] {
            for killed in [false, true] {
                let m = Self.machine(state, killed: killed)
                #expect(StoredAllocation(allocation: allocation, machine: m, adoption: nil, network: nil).machine == m)
            }
        }
    }
}
