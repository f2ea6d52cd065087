import CorralModel
import CorralProtocol
import Logging
import Scheduler
import Store
import TestSupport
import Testing

/// Issue 20, item 4: a tenant cannot grow the scheduler without bound. Unfinished tasks and open jobs per
/// tenant are counted as records change, and a submission past either limit is refused with the limit
/// named; the counts come down as tasks end.
@Suite struct TenantLimitTests {
    static func core(tasks: Int, jobs: Int) -> SchedulerCore {
        var configuration = SchedulerCore.Configuration()
        configuration.maxUnfinishedTasksPerTenant = tasks
        configuration.maxOpenJobsPerTenant = jobs
        return SchedulerCore(configuration: configuration, random: { 0 })
    }

    @Test func unfinishedTasksAndOpenJobsAreLimitedPerTenantAndFreedAsTasksEnd() {
        var core = Self.core(tasks: 10, jobs: 3)
        core.register(SchedulerCoreTests.node("n1", cores: 1), now: 0)
        let six = SchedulerCoreTests.spec("six", cpu: 1, count: 6)
        #expect(core.overLimit(six) == nil)
        core.admit(core.makeJobRecord(six, id: "j1", now: 0), now: 0)
        let why = core.overLimit(six)
        #expect(why?.contains("6 unfinished tasks") == true && why?.contains("maxUnfinishedTasksPerTenant") == true)
        #expect(core.overLimit(SchedulerCoreTests.spec("other", tenant: "beta", count: 6)) == nil, "per tenant")
        // One task runs to its end: one fewer unfinished.
        let placed = core.schedule(now: 0)
        core.deliver(placed)
        let allocation = placed[0].allocation!
        _ = core.heartbeat(
            node: "n1", reports: [.init(id: allocation, state: .exited, exitCode: 0)], usage: .idle, now: 1)
        #expect(core.overLimit(SchedulerCoreTests.spec("five", count: 5)) == nil)
        // Cancelling ends the rest.
        _ = core.cancel(job: "j1", now: 2)
        #expect(core.overLimit(SchedulerCoreTests.spec("ten", count: 10)) == nil)
        for (index, id) in ["a", "b", "c"].enumerated() {
            core.admit(core.makeJobRecord(SchedulerCoreTests.spec("j\(index)"), id: JobID(id)!, now: 3), now: 3)
        }
        #expect(core.overLimit(SchedulerCoreTests.spec("fourth"))?.contains("maxOpenJobsPerTenant") == true)
    }

    /// The flood of the issue: three small submissions of 100,000 tasks each took the scheduler from 45 to
    /// 324 MB. Now each is a 429 and nothing of them is kept.
    @Test func aFloodOfHugeJobsIsA429AndNothingIsKept() async throws {
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: nil, configuration: SchedulerCore.Configuration(),
            logger: Logger(label: "test"))
        try await scheduler.start()
        for _ in 0..<3 {
            await #expect {
                _ = try await scheduler.submit(SchedulerCoreTests.spec("flood", count: 100_000))
            } throws: { error in
                "\(error)".contains("the limit is 20000 (maxUnfinishedTasksPerTenant)")
            }
        }
        #expect(await scheduler.jobs(tenant: "acme").isEmpty)
        _ = await scheduler.shutdown()
    }

    /// Every release re-queued every waiting task: with 5,000 tasks waiting for a one-core node, each task's
    /// end re-examined all of them. Now one per waiting job is, and the job's tasks still all run in order.
    @Test func aReleaseReexaminesOneTaskPerWaitingJobAndEveryTaskStillRuns() {
        var core = Self.core(tasks: 20_000, jobs: 10)
        core.register(SchedulerCoreTests.node("n1", cores: 1), now: 0)
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("many", cpu: 1, count: 5000), id: "j1", now: 0), now: 0)
        core.admit(
            core.makeJobRecord(SchedulerCoreTests.spec("other", tenant: "beta", cpu: 1, count: 3), id: "j2", now: 0),
            now: 0)
        var placed = core.schedule(now: 0)
        #expect(placed.count == 1 && core.blockedReason(job: "j1") != nil)
        var order: [Int] = []
        var time = 1.0
        while let record = placed.first {
            if record.id.job == "j1" { order.append(record.id.index) }
            core.deliver(placed)
            let before = core.examined
            _ = core.heartbeat(
                node: "n1", reports: [.init(id: record.allocation!, state: .exited, exitCode: 0)], usage: .idle,
                now: time)
            placed = core.schedule(now: time)
            #expect(core.examined - before <= 4, "a release examined \(core.examined - before) queue entries")
            time += 1
        }
        #expect(order == Array(0..<5000), "every task of the job ran, in index order")
        #expect(core.tasks(of: "j2").allSatisfy { $0.state == .completed })
        #expect(core.blockedReason(job: "j1") == nil)
    }

    /// Ended jobs were never removed. Now one whose tasks all ended more than `endedJobRetention` ago is
    /// removed from the store and from memory; a job that still runs, or ended recently, is kept.
    @Test func anEndedJobIsRemovedAfterItsRetentionAndOthersAreKept() async throws {
        final class Clock: @unchecked Sendable {
            var now = 1000.0
        }
        let clock = Clock()
        var configuration = SchedulerCore.Configuration()
        configuration.endedJobRetention = 100
        let store = try SQLiteStore(path: nil)
        let scheduler = Scheduler(
            store: store, history: nil, configuration: configuration, logger: Logger(label: "test"),
            now: { clock.now })
        try await scheduler.start()
        _ = try await scheduler.register(
            SchedulerCoreTests.node("n1", cores: 4), claim: .bootstrap(credentialDigest: "digest"))
        let done = try await scheduler.submit(SchedulerCoreTests.spec("done", cpu: 1))
        let running = try await scheduler.submit(SchedulerCoreTests.spec("running", cpu: 1))
        var allocations: [Allocation] = []
        for _ in 0..<50 where allocations.count < 2 {
            allocations += try await scheduler.poll(node: "n1", timeout: .milliseconds(100)).allocations
        }
        let finished = try #require(allocations.first { $0.id.task.job == done.id })
        let other = try #require(allocations.first { $0.id.task.job == running.id })
        _ = try await scheduler.heartbeat(
            node: "n1",
            reports: [.init(id: finished.id, state: .exited, exitCode: 0), .init(id: other.id, state: .running)],
            usage: .idle)
        clock.now += 50
        try await scheduler.removeExpiredJobs()
        #expect(await scheduler.job(done.id) != nil, "kept within its retention")
        clock.now += 100
        try await scheduler.removeExpiredJobs()
        #expect(await scheduler.job(done.id) == nil, "removed after its retention")
        #expect(await scheduler.job(running.id) != nil, "a running job is kept")
        let keys = try await store.list(prefix: "", limit: nil).items.map(\.key)
        #expect(!keys.contains { $0.contains(done.id.rawValue) }, "its records left the store: \(keys)")
        #expect(keys.contains { $0.contains(running.id.rawValue) })
        _ = await scheduler.shutdown()
    }
}
