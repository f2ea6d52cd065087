import CorralModel
import CorralProtocol
import Placement
import Scheduler
import TestSupport
import Testing

@Suite struct SchedulerCoreTests {
    static func node(_ id: NodeID, cores: Int64 = 4) -> NodeRecord {
        NodeRecord(id: id, capacity: ResourceVector(cpuMillis: cores * 1000, memory: 8 << 30, pids: 10_000))
    }

    static func spec(
        _ name: String, tenant: String = "acme", priority: Int = 50, cpu: Double = 1, count: Int = 1,
        retry: RetryPolicy = RetryPolicy()
    ) -> JobSpec {
        JobSpec(
            name: name, tenant: tenant, priority: priority, command: ["/bin/true"],
            resources: Resources(cpu: cpu, memory: 64 << 20), count: count, retry: retry)
    }

    @Test func retriesWaitForExponentialBackoffOnTheInjectedClock() {
        var core = SchedulerCore(configuration: .init(), random: { 0 })
        core.register(Self.node("n1"), now: 0)
        let job = core.makeJobRecord(
            Self.spec("flaky", retry: RetryPolicy(maxAttempts: 3, initialDelay: .seconds(2), maxDelay: .seconds(60))),
            id: "j1", now: 0)
        core.admit(job, now: 0)
        var placed = core.schedule(now: 0)
        #expect(placed.map(\.state) == [.scheduled])
        core.deliver(placed)
        let allocation = placed[0].allocation!
        _ = core.heartbeat(
            node: "n1", reports: [.init(id: allocation, state: .failed, error: "exit 1")], usage: .idle, now: 10)
        #expect(core.tasks(of: "j1")[0].state == .pending)
        #expect(core.tasks(of: "j1")[0].notBefore == 12, "first retry after initialDelay")
        _ = core.tick(now: 11.9)
        #expect(core.schedule(now: 11.9).isEmpty, "not before its backoff")
        _ = core.tick(now: 12)
        placed = core.schedule(now: 12)
        #expect(placed.first?.machine.attempt == 2)
        _ = core.heartbeat(
            node: "n1", reports: [.init(id: placed[0].allocation!, state: .failed, error: "exit 1")], usage: .idle,
            now: 20)
        #expect(core.tasks(of: "j1")[0].notBefore == 24, "the second retry waits twice as long")
    }

    @Test func aJobOverItsTenantsQuotaIsRejectedAndOneWithinItWaitsForRoomInTheQuota() {
        var core = SchedulerCore(configuration: .init(quotas: ["acme": TenantQuota(cpu: 2, runningTasks: 10)]))
        core.register(Self.node("n1", cores: 16), now: 0)
        #expect(core.rejection(of: Self.spec("huge", cpu: 3)) != nil)
        #expect(core.rejection(of: Self.spec("fits", cpu: 1)) == nil)
        core.admit(core.makeJobRecord(Self.spec("three", cpu: 1, count: 3), id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        #expect(placed.count == 2, "the quota of 2 cores admits two 1-core tasks")
        #expect(core.blockedReason(job: "j1")?.contains("quota") == true)
        #expect(core.usage(of: "acme").cpu == 2)
        core.deliver(placed)
        _ = core.heartbeat(
            node: "n1", reports: [.init(id: placed[0].allocation!, state: .exited, exitCode: 0)], usage: .idle, now: 1)
        #expect(core.schedule(now: 1).count == 1, "the third task runs once the first released its share")
    }

    @Test func higherPriorityJobsArePlacedFirstThenSubmissionOrder() {
        var core = SchedulerCore(configuration: .init())
        core.register(Self.node("n1", cores: 2), now: 0)
        core.admit(core.makeJobRecord(Self.spec("low-1", priority: 10), id: "a", now: 0), now: 0)
        core.admit(core.makeJobRecord(Self.spec("high", priority: 90), id: "b", now: 0), now: 0)
        core.admit(core.makeJobRecord(Self.spec("low-2", priority: 10), id: "c", now: 0), now: 0)
        let placed = core.schedule(now: 0).map(\.id.job)
        #expect(placed == ["b", "a"], "two cores: the high-priority job and the earlier low one")
        #expect(core.blockedReason(job: "c")?.contains("cpu short") == true)
    }

    @Test func aSilentNodeGoesDownAndItsTasksAreLostThenPlacedElsewhere() {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 3))
        core.register(Self.node("n1"), now: 0)
        core.admit(core.makeJobRecord(Self.spec("work"), id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        core.deliver(placed)
        core.register(Self.node("n2"), now: 2)
        _ = core.heartbeat(node: "n2", reports: [], usage: .idle, now: 4)
        let changed = core.tick(now: 4)
        #expect(changed.map(\.state) == [.pending])
        #expect(core.tasks(of: "j1")[0].machine.lastError?.contains("stopped reporting") == true)
        _ = core.heartbeat(node: "n2", reports: [], usage: .idle, now: 9)
        _ = core.tick(now: 10)
        let again = core.schedule(now: 10)
        #expect(again.first?.machine.node == "n2")
    }

    static func ready(_ core: SchedulerCore, _ node: NodeID) -> Bool? {
        core.nodeStatuses.first { $0.id == node }?.ready
    }

    /// The TTL is the configured minimum x 1.1 (slack for heartbeat jitter): not down a moment before it,
    /// down a moment after.
    @Test func aSilentNodeIsDownNeitherBeforeItsTTLNorLaterThanJustAfter() {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 3))
        core.register(Self.node("n1"), now: 100)
        #expect(abs(core.ttl - 3.3) < 1e-9)
        _ = core.tick(now: 100 + 3.3 - 0.01)
        #expect(Self.ready(core, "n1") == true, "down before its TTL")
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, now: 103)
        _ = core.tick(now: 103 + 3.3 - 0.01)
        #expect(Self.ready(core, "n1") == true, "a heartbeat restarts the TTL")
        _ = core.tick(now: 103 + 3.3 + 0.01)
        #expect(Self.ready(core, "n1") == false, "still ready after its TTL")
    }

    /// A large cluster's TTL grows with the heartbeats the scheduler takes per second: 1,000 nodes at
    /// 50 heartbeats/s are each heard from every 20 s, so the TTL is 20 s x 1.1, not the 3 s minimum.
    @Test func theTTLGrowsWithTheClusterSoTheHeartbeatRateStaysBounded() {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 3, maxHeartbeatRate: 50))
        for index in 0..<1000 { core.register(Self.node(NodeID(stringLiteral: "n\(index)")), now: 0) }
        #expect(abs(core.ttl - 22) < 1e-9, "ttl \(core.ttl)")
        _ = core.tick(now: 21.9)
        #expect(core.nodeStatuses.allSatisfy { $0.ready }, "a node of a large cluster went down at the small TTL")
        _ = core.tick(now: 22.1)
        #expect(core.nodeStatuses.allSatisfy { !$0.ready })
        var small = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 3, maxHeartbeatRate: 50))
        for index in 0..<10 { small.register(Self.node(NodeID(stringLiteral: "n\(index)")), now: 0) }
        #expect(abs(small.ttl - 3.3) < 1e-9, "a small cluster keeps the minimum: \(small.ttl)")
    }

    /// Nodes loaded after a scheduler restart get the 30 s grace on top of the TTL before they are judged,
    /// so that their agents have time to find the new scheduler; a heartbeat makes them ordinary again.
    @Test func nodesRestoredAfterARestartAreNotJudgedBeforeTheGraceAndTheTTLEnd() {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 3))
        #expect(core.configuration.restartGrace == 30)
        core.restore(Self.node("n1"), now: 0)
        core.restore(Self.node("n2"), now: 0)
        _ = core.heartbeat(node: "n2", reports: [], usage: .idle, now: 1)
        _ = core.tick(now: 30 + 3.3 - 0.01)
        #expect(Self.ready(core, "n1") == true, "judged during the grace")
        #expect(Self.ready(core, "n2") == false, "a node heard from after the restart is on its TTL, no grace")
        _ = core.tick(now: 30 + 3.3 + 0.01)
        #expect(Self.ready(core, "n1") == false)
    }

    @Test("a running allocation its node stops mentioning for more than an interval is lost and placed again")
    func anAllocationTheNodeForgetsIsLost() throws {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 3))
        core.register(Self.node("n1"), now: 0)
        core.admit(core.makeJobRecord(Self.spec("work"), id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        core.deliver(placed)
        _ = core.takeOrders(node: "n1", now: 0)
        let allocation = try #require(placed.first?.allocation)
        _ = core.heartbeat(node: "n1", reports: [.init(id: allocation, state: .running)], usage: .idle, now: 0.5)
        #expect(core.tasks(of: "j1")[0].state == .running)
        // One heartbeat without it (a stale request, say), then one with it again: nothing happens.
        #expect(core.heartbeat(node: "n1", reports: [], usage: .idle, now: 1).isEmpty)
        _ = core.heartbeat(node: "n1", reports: [.init(id: allocation, state: .running)], usage: .idle, now: 2.5)
        #expect(core.heartbeat(node: "n1", reports: [], usage: .idle, now: 3).isEmpty)
        #expect(core.tasks(of: "j1")[0].state == .running, "within an interval of the last mention")
        // Its agent came back without it (a wiped data directory): gone for more than an interval.
        let changed = core.heartbeat(node: "n1", reports: [], usage: .idle, now: 4.1)
        #expect(changed.map(\.state) == [.pending])
        #expect(core.tasks(of: "j1")[0].machine.lastError?.contains("stopped reporting the allocation") == true)
        #expect(core.takeOrders(node: "n1", now: 4.1).kills == [allocation])
        _ = core.tick(now: 4.1)
        let again = core.schedule(now: 4.1)
        #expect(again.first?.machine.attempt == 2, "placed again at once (the node is still up)")
    }

    @Test("a task's expected duration picks the forecast horizon that scores it")
    func expectedDurationPicksTheHorizon() {
        let configuration = SchedulerCore.Configuration()
        #expect(configuration.forecastHorizons == [60, 600, 3600])
        let cases: [(Double?, Int)] = [(nil, 0), (5, 0), (60, 0), (61, 1), (600, 1), (1800, 2), (86400, 2)]
        for (seconds, horizon) in cases {
            #expect(configuration.horizon(forExpectedDuration: seconds) == horizon, "\(String(describing: seconds)) s")
        }
    }

    @Test func cancellingKillsPlacedTasksOnTheirNode() {
        var core = SchedulerCore(configuration: .init())
        core.register(Self.node("n1"), now: 0)
        core.admit(core.makeJobRecord(Self.spec("long", count: 2), id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        core.deliver(placed)
        _ = core.takeOrders(node: "n1", now: 0)
        let changed = core.cancel(job: "j1", now: 1)
        #expect(changed.map(\.state) == [.killed, .killed])
        #expect(Set(core.takeOrders(node: "n1", now: 1).kills) == Set(placed.compactMap(\.allocation)))
        #expect(core.usage(of: "acme").runningTasks == 0)
    }

    @Test func aRunningTaskPastItsTimeoutIsKilledAndRetried() throws {
        var core = SchedulerCore(configuration: .init(), random: { 0 })
        core.register(Self.node("n1"), now: 0)
        var spec = Self.spec("slow")
        spec.timeout = .seconds(5)
        core.admit(core.makeJobRecord(spec, id: "j1", now: 0), now: 0)
        let placed = core.schedule(now: 0)
        core.deliver(placed)
        _ = core.takeOrders(node: "n1", now: 0)
        let allocation = try #require(placed.first?.allocation)
        _ = core.heartbeat(node: "n1", reports: [.init(id: allocation, state: .running)], usage: .idle, now: 1)
        #expect(core.tick(now: 5.9).isEmpty, "still within its 5 s")
        let changed = core.tick(now: 6.1)
        #expect(changed.map(\.state) == [.pending])
        #expect(changed.first?.machine.lastError == "timed out")
        #expect(core.takeOrders(node: "n1", now: 6.1).kills == [allocation])
    }

    /// Issue 20, item 7: a node whose agent cannot write its records says `diskFull`; nothing is placed
    /// there until it says otherwise, and its status carries the condition.
    @Test func aNodeWithAFullDiskGetsNoWorkUntilItHasRoomAgain() {
        var core = SchedulerCore(configuration: .init(), random: { 0 })
        core.register(Self.node("n1", cores: 4), now: 0)
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, diskFull: true, now: 1)
        #expect(core.nodeStatuses.first?.conditions == ["disk-full"])
        core.admit(core.makeJobRecord(Self.spec("a"), id: "j1", now: 1), now: 1)
        #expect(core.schedule(now: 1).isEmpty, "nothing is placed on a full node")
        #expect(core.blockedReason(job: "j1") != nil)
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, diskFull: false, now: 2)
        #expect(core.nodeStatuses.first?.conditions == nil)
        #expect(core.schedule(now: 2).count == 1, "placed once the node has room again")
    }
}
