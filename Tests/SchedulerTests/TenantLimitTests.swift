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
}
