import CorralModel
import CorralProtocol
import Logging
import Scheduler
import Store
import Synchronization
import TestSupport
import Testing

/// Schedules on an injected clock: how many runs their fires create, and what `overlap`, `catchUp`,
/// `startingDeadline`, pausing, time zones and `keepRuns` do to them, through the store as a restart
/// reads it.
@Suite struct ScheduleTests {
    @Test func aScheduleFiringEveryTwoSecondsRunsFiveTimesInTenSeconds() async throws {
        let h = try await SchedulerHarness()
        let schedule = try await h.submit("tick", cron: "*/2 * * * * *")
        #expect(try await h.state(of: schedule.id).nextFire == 1002)
        try await h.run(until: 1010)
        #expect(await h.fires(of: schedule.id) == [1002, 1004, 1006, 1008, 1010])
        let runs = await h.scheduler.runs(of: schedule.id)
        #expect(runs.map(\.spec.name) == ["tick-1002", "tick-1004", "tick-1006", "tick-1008", "tick-1010"])
        #expect(runs.allSatisfy { $0.spec.schedule == nil && $0.schedule == schedule.id })
        #expect(try await h.state(of: schedule.id).fired == 5)
        #expect(await h.scheduler.tasks(of: schedule.id).isEmpty, "the schedule itself runs nothing")
        await h.scheduler.depose()
    }

    @Test func forbidSkipsFiresWhileTheRunGoesOnAndCountsThem() async throws {
        let h = try await SchedulerHarness()
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        let schedule = try await h.submit("nightly", cron: "*/2 * * * * *", overlap: .forbid)
        try await h.run(until: 1002)
        let first = try await h.startAll()
        #expect(first.count == 1)
        try await h.run(until: 1007)  // the run takes 5 s: the fires at 1004 and 1006 find it going
        try await h.finish(first)
        try await h.run(until: 1008)
        #expect(await h.fires(of: schedule.id) == [1002, 1008])
        let state = try await h.state(of: schedule.id)
        #expect(state.skipped == 2)
        #expect(state.lastSkip?.contains("overlap: forbid") == true, "\(state.lastSkip ?? "")")
        await h.scheduler.depose()
    }

    @Test func replaceCancelsTheRunningRunAndStartsTheNext() async throws {
        let h = try await SchedulerHarness()
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        let schedule = try await h.submit("sync", cron: "*/2 * * * * *", overlap: .replace)
        try await h.run(until: 1002)
        _ = try await h.startAll()
        try await h.run(until: 1004)
        let runs = await h.scheduler.runs(of: schedule.id)
        #expect(runs.map(\.fire) == [1002, 1004])
        #expect(runs.first?.cancelled == true, "the run of 1002 is cancelled")
        let orders = try await h.scheduler.poll(node: "n1", timeout: .milliseconds(1))
        #expect(orders.kills.contains { $0.task.job == runs[0].id }, "its task is killed on the node: \(orders)")
        #expect(await h.scheduler.activeRuns(of: schedule.id) == [runs[1].id])
        await h.scheduler.depose()
    }

    /// Fire times that passed while no scheduler ran: none run with `catchUp: none`, the latest runs once
    /// with `catchUp: one` within its `startingDeadline`, none past it.
    @Test(arguments: [
        (JobSchedule.CatchUp.none, nil as Duration?, [Int64]()), (.one, nil, [1015]), (.one, .seconds(10), [1015]),
        (.one, .seconds(2), []),
    ])
    func firesMissedWhileDownFollowCatchUp(catchUp: JobSchedule.CatchUp, deadline: Duration?, expected: [Int64])
        async throws
    {
        let first = try await SchedulerHarness()
        let schedule = try await first.submit("report", cron: "*/5 * * * * *", catchUp: catchUp, deadline: deadline)
        try await first.run(until: 1005)
        #expect(await first.fires(of: schedule.id) == [1005])
        await first.scheduler.depose()
        // Down from 1005.2 to 1018.5: the fires of 1010 and 1015 passed.
        let second = try await SchedulerHarness(store: first.store, at: 1018.5)
        try await second.run(until: 1019)
        #expect(await second.fires(of: schedule.id) == [1005] + expected)
        let state = try await second.state(of: schedule.id)
        #expect(state.missed == 2 - expected.count)
        #expect(state.nextFire == 1020)
        await second.scheduler.depose()
    }

    /// A fire stored just before a crash is not made again by the next scheduler, and a fire the crash
    /// prevented is made by it (with `catchUp: one`): each fire time has exactly one run.
    @Test func aRestartNeitherRepeatsNorLosesAFire() async throws {
        let first = try await SchedulerHarness()
        let schedule = try await first.submit("once", cron: "*/3 * * * * *", catchUp: .one)
        try await first.run(until: 1002.25)
        await first.scheduler.depose()  // the crash: nothing more of it is written
        let second = try await SchedulerHarness(store: first.store, at: 1002.5)
        try await second.run(until: 1004)
        #expect(await second.fires(of: schedule.id) == [1002], "the stored fire is not repeated")
        await second.scheduler.depose()
        // Down across the fire of 1005, back before 1008.
        let third = try await SchedulerHarness(store: first.store, at: 1006)
        try await third.run(until: 1011)
        #expect(await third.fires(of: schedule.id) == [1002, 1005, 1008, 1011])
        await third.scheduler.depose()
    }

    @Test func aPausedScheduleDoesNotFireAndResumesFromNow() async throws {
        let h = try await SchedulerHarness()
        let schedule = try await h.submit("p", cron: "*/2 * * * * *")
        try await h.run(until: 1002)
        _ = try await h.scheduler.setPaused(schedule.id, true)
        try await h.run(until: 1009)
        #expect(await h.fires(of: schedule.id) == [1002])
        _ = try await h.scheduler.setPaused(schedule.id, false)
        #expect(try await h.state(of: schedule.id).nextFire == 1010)
        try await h.run(until: 1010)
        #expect(await h.fires(of: schedule.id) == [1002, 1010])
        // Paused survives a restart.
        _ = try await h.scheduler.setPaused(schedule.id, true)
        await h.scheduler.depose()
        let again = try await SchedulerHarness(store: h.store, at: 1011)
        try await again.run(until: 1016)
        #expect(await again.fires(of: schedule.id) == [1002, 1010])
        await again.scheduler.depose()
    }

    /// The zone is the scheduler's: 02:30 local on the day Berlin's clocks skip from 02:00 to 03:00 fires
    /// once, at 03:00 CEST (01:00 UTC); on the day they go back, 02:30 fires once, at its first occurrence.
    @Test func fireTimesFollowTheNamedZoneAcrossDaylightSaving() async throws {
        let spring = 1_774_742_400.0  // 2026-03-29 00:00 UTC
        let h = try await SchedulerHarness(at: spring)
        let schedule = try await h.submit("berlin", cron: "30 2 * * *", zone: "Europe/Berlin")
        #expect(try await h.state(of: schedule.id).nextFire == 1_774_746_000)  // 01:00 UTC
        await h.scheduler.depose()
        let autumn = 1_792_886_400.0  // 2026-10-25 00:00 UTC; 02:30 CEST is 00:30 UTC
        let later = try await SchedulerHarness(at: autumn)
        let second = try await later.submit("berlin", cron: "30 2 * * *", zone: "Europe/Berlin")
        #expect(try await later.state(of: second.id).nextFire == 1_792_888_200)
        try await later.run(until: autumn + 3 * 3600, step: 30)
        #expect(await later.fires(of: second.id) == [1_792_888_200], "02:30 CET (01:30 UTC) does not fire again")
        await later.scheduler.depose()
    }

    @Test func anUnknownZoneIsRefusedNamingTheField() async throws {
        let h = try await SchedulerHarness()
        await #expect {
            _ = try await h.submit("x", cron: "@hourly", zone: "Mars/Olympus_Mons")
        } throws: { error in
            guard case SchedulerError.invalid(let field, _) = error else { return false }
            return field == "schedule.timeZone"
        }
        await h.scheduler.depose()
    }

    @Test func endedRunsPastKeepRunsAreRemoved() async throws {
        let h = try await SchedulerHarness()
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        let schedule = try await h.submit("k", cron: "* * * * * *", keepRuns: 2)
        for second in 1001...1005 {
            try await h.run(until: Double(second))
            try await h.finish(try await h.startAll())
        }
        #expect(await h.fires(of: schedule.id).count == 5)
        try await h.scheduler.removeExpiredJobs()
        #expect(await h.fires(of: schedule.id) == [1004, 1005])
        let keys = try await h.store.list(prefix: StoreKeys.jobs, limit: nil).items.map(\.key)
        #expect(keys.count == 3, "the schedule and its two runs kept: \(keys)")
        await h.scheduler.depose()
    }

    /// A scheduled workflow: each fire creates every job of it, with its edges pointing at the same fire's
    /// runs; `keepRuns` counts fires.
    @Test func aScheduledWorkflowCreatesEveryJobWithItsEdgesAtEachFire() async throws {
        let h = try await SchedulerHarness()
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        var extract = SchedulerCoreTests.spec("extract")
        extract.retry.maxAttempts = 1
        var load = extract
        load.name = "load"
        load.dependsOn = [Dependency(job: "extract")]
        let workflow = Workflow(
            jobs: [extract, load], name: "etl",
            schedule: JobSchedule(cron: try CronExpression("*/2 * * * * *"), keepRuns: 1))
        let schedule = try #require(try await h.scheduler.submit(workflow: workflow).first)
        #expect(schedule.spec.name == "etl" && schedule.workflow?.count == 2)
        try await h.run(until: 1002)
        let runs = await h.scheduler.runs(of: schedule.id)
        #expect(runs.map(\.spec.name).sorted() == ["extract-1002", "load-1002"])
        let first = try #require(runs.first { $0.spec.name == "extract-1002" })
        let second = try #require(runs.first { $0.spec.name == "load-1002" })
        #expect(second.upstream == [.init(job: first.id, on: .success)])
        let started = try await h.startAll()
        #expect(started.map(\.id.task.job) == [first.id], "load waits for this fire's extract")
        try await h.finish(started)
        try await h.run(until: 1003)
        let next = try await h.startAll()
        #expect(next.map(\.id.task.job) == [second.id])
        try await h.finish(next)
        try await h.run(until: 1004)
        try await h.finish(try await h.startAll())
        try await h.run(until: 1005)
        try await h.finish(try await h.startAll())
        try await h.scheduler.removeExpiredJobs()
        #expect(await h.fires(of: schedule.id) == [1004, 1004], "one fire kept, both of its jobs")
        await h.scheduler.depose()
    }
}
