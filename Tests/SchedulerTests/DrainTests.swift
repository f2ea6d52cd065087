import CorralModel
import CorralProtocol
import Scheduler
import TestSupport
import Testing

/// `corral node drain` in the core, on an injected clock.
@Suite struct DrainTests {
    static func spec(_ name: String, count: Int = 1, maxAttempts: Int = 1) -> JobSpec {
        JobSpec(
            name: name, tenant: "acme", command: ["/bin/true"], resources: Resources(cpu: 1, memory: 64 << 20),
            count: count, retry: RetryPolicy(maxAttempts: maxAttempts))
    }

    static func status(_ core: SchedulerCore, _ node: NodeID) -> NodeStatus? {
        core.nodeStatuses.first { $0.id == node }
    }

    @Test func aDrainingNodeGetsNoNewWorkAndUndrainGivesItWorkAgain() {
        var core = SchedulerCore(configuration: .init())
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        core.register(SchedulerCoreTests.node("n2"), now: 0)
        let drained = core.drain(node: "n1", deadline: nil, now: 0)
        #expect(drained?.1.isEmpty == true)
        core.admit(core.makeJobRecord(Self.spec("work", count: 6), id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        #expect(placed.count == 4, "n2's four cores only")
        #expect(placed.allSatisfy { $0.machine.node == "n2" })
        #expect(Self.status(core, "n1")?.conditions == ["drained"], "nothing runs there")
        let undrained = core.undrain(node: "n1")
        #expect(undrained != nil)
        let more = core.schedule(now: 1)
        #expect(more.count == 2 && more.allSatisfy { $0.machine.node == "n1" }, "the waiting two go to n1 now")
        #expect(Self.status(core, "n1")?.drain == nil && Self.status(core, "n1")?.conditions == nil)
        let unknown = core.drain(node: "n9", deadline: nil, now: 1)
        #expect(unknown == nil, "an unknown node")
    }

    @Test func atTheDeadlineTasksAreEvictedAndPlacedElsewhereWithoutUsingAnAttempt() throws {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 30))
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        core.admit(core.makeJobRecord(Self.spec("long", count: 2, maxAttempts: 1), id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        core.deliver(placed)
        _ = core.takeOrders(node: "n1", now: 0)
        let running = placed.map { AllocationReport(id: $0.allocation!, state: .running) }
        _ = core.heartbeat(node: "n1", reports: running, usage: .idle, now: 1)
        core.register(SchedulerCoreTests.node("n2"), now: 1)

        let drained = core.drain(node: "n1", deadline: 10, now: 2)
        let (record, evictedAtOnce) = try #require(drained)
        #expect(record.drain == NodeDrain(since: 2, deadline: 10))
        #expect(evictedAtOnce.isEmpty, "the tasks run on until the deadline")
        #expect(Self.status(core, "n1")?.conditions == ["draining"])
        let early = core.tick(now: 9.9)
        #expect(early.isEmpty)

        let evicted = core.tick(now: 10)
        #expect(evicted.count == 2)
        #expect(evicted.allSatisfy { $0.state == .pending && $0.machine.lastError == "evicted: node n1 was drained" })
        #expect(evicted.allSatisfy { $0.notBefore == 10 }, "placed again at once, no backoff")
        let orders = core.takeOrders(node: "n1", now: 10)
        #expect(Set(orders.kills) == Set(placed.map { $0.allocation! }), "both attempts are killed on n1")
        let replaced = core.schedule(now: 10)
        #expect(replaced.count == 2 && replaced.allSatisfy { $0.machine.node == "n2" })
        #expect(replaced.allSatisfy { $0.machine.attempt == 2 && $0.machine.attemptsUsed == 1 })
        #expect(Self.status(core, "n1")?.drained == true)

        // Their one attempt is still theirs: each completes (or may fail once) on n2.
        core.deliver(replaced)
        let done = replaced.map { AllocationReport(id: $0.allocation!, state: .exited, exitCode: 0) }
        _ = core.heartbeat(node: "n2", reports: done, usage: .idle, now: 11)
        #expect(core.tasks(of: "j1").map(\.state) == [.completed, .completed])
    }

    @Test func aDrainSurvivesTheAgentRegisteringAgainInTheRecordTheSchedulerKeeps() throws {
        var core = SchedulerCore(configuration: .init())
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        let drained = core.drain(node: "n1", deadline: 600, now: 0)
        let (record, _) = try #require(drained)
        // What the scheduler stores and loads after a restart carries the drain.
        var restarted = SchedulerCore(configuration: .init())
        restarted.restore(record, now: 5)
        restarted.admit(restarted.makeJobRecord(Self.spec("work"), id: "j1", now: 5), now: 5)
        #expect(restarted.schedule(now: 5).isEmpty, "a restored draining node gets no work")
        #expect(Self.status(restarted, "n1")?.drain?.deadline == 600)
        #expect(restarted.blockedReason(job: "j1") != nil)
    }
}
