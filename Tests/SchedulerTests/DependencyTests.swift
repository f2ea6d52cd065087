import CorralModel
import CorralProtocol
import Scheduler
import TestSupport
import Testing

/// Job graphs on an injected clock: a job runs only after its upstream jobs ended as it asked, is
/// skipped (naming the upstream) when they cannot, and a graph survives a restart.
@Suite struct DependencyTests {
    static func job(_ name: String, _ upstream: [(String, Dependency.Condition)] = []) -> JobSpec {
        var spec = SchedulerCoreTests.spec(name, retry: RetryPolicy(maxAttempts: 1))
        spec.dependsOn = upstream.map { Dependency(job: $0.0, on: $0.1) }
        return spec
    }

    /// A -> B, A -> C, B & C -> D, and E cleaning up when A fails.
    static let diamond = Workflow(jobs: [
        job("A"), job("B", [("A", .success)]), job("C", [("A", .success)]),
        job("D", [("B", .success), ("C", .success)]), job("E", [("A", .failure)]),
    ])

    func names(_ allocations: [Allocation], _ jobs: [JobRecord]) -> Set<String> {
        let byID = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0.spec.name) })
        return Set(allocations.compactMap { byID[$0.id.task.job] })
    }

    @Test func aDiamondRunsInTheOrderOfItsEdges() async throws {
        let h = try await SchedulerHarness()
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        let jobs = try await h.scheduler.submit(workflow: Self.diamond)
        let ids = Dictionary(uniqueKeysWithValues: jobs.map { ($0.spec.name, $0.id) })
        try await h.run(until: 1001)
        let first = try await h.startAll()
        #expect(names(first, jobs) == ["A"])
        #expect(await h.scheduler.blockedReason(job: ids["D"]!)?.hasPrefix("waiting for job") == true)
        try await h.finish(first)
        try await h.run(until: 1002)
        let second = try await h.startAll()
        #expect(names(second, jobs) == ["B", "C"], "B and C after A, together")
        try await h.finish([second[0]])
        try await h.run(until: 1003)
        #expect(try await h.startAll().isEmpty, "D waits for C too")
        #expect(await h.scheduler.blockedReason(job: ids["D"]!)?.contains(ids["C"]!.rawValue) == true)
        try await h.finish([second[1]])
        try await h.run(until: 1004)
        #expect(names(try await h.startAll(), jobs) == ["D"])
        let cleanup = try #require(await h.scheduler.job(ids["E"]!))
        #expect(cleanup.skipped?.contains("ended success") == true, "E runs only on A's failure: \(cleanup)")
        await h.scheduler.depose()
    }

    @Test func aFailedUpstreamSkipsWhatWaitsOnItsSuccessAndRunsTheCleanup() async throws {
        let h = try await SchedulerHarness()
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        let jobs = try await h.scheduler.submit(workflow: Self.diamond)
        let ids = Dictionary(uniqueKeysWithValues: jobs.map { ($0.spec.name, $0.id) })
        try await h.run(until: 1001)
        try await h.finish(try await h.startAll(), exitCode: 1)
        try await h.run(until: 1002)
        #expect(names(try await h.startAll(), jobs) == ["E"], "only the cleanup runs")
        for name in ["B", "C", "D"] {
            let job = try #require(await h.scheduler.job(ids[name]!))
            let upstream = name == "D" ? [ids["B"]!, ids["C"]!] : [ids["A"]!]
            #expect(
                upstream.contains { job.skipped?.contains($0.rawValue) == true },
                "\(name) is skipped naming its upstream: \(job.skipped ?? "not skipped")")
            #expect(await h.scheduler.tasks(of: job.id).allSatisfy { $0.state == .killed })
        }
        await h.scheduler.depose()
    }

    @Test func aWaitingJobStillWaitsAfterARestartAndRunsWhenItsUpstreamEnds() async throws {
        let first = try await SchedulerHarness()
        _ = try await first.scheduler.register(
            SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        let upstream = try await first.scheduler.submit(Self.job("first"))
        let downstream = try await first.scheduler.submit(Self.job("then", [(upstream.id.rawValue, .any)]))
        try await first.run(until: 1001)
        let running = try await first.startAll()
        #expect(running.map(\.id.task.job) == [upstream.id])
        await first.scheduler.depose()
        let second = try await SchedulerHarness(store: first.store, at: 1002)
        #expect(await second.scheduler.blockedReason(job: downstream.id)?.hasPrefix("waiting for job") == true)
        _ = try await second.scheduler.register(SchedulerCoreTests.node("n1"), claim: .holder("n1"))
        try await second.finish(running, exitCode: 3)
        try await second.run(until: 1003)
        #expect(try await second.startAll().map(\.id.task.job) == [downstream.id], "on: any runs after a failure")
        await second.scheduler.depose()
    }

    @Test func anUnknownUpstreamOrAScheduleIsRefusedNamingTheEntry() async throws {
        let h = try await SchedulerHarness()
        var schedule = Self.job("cron")
        schedule.schedule = JobSchedule(cron: try CronExpression("@hourly"))
        let scheduled = try await h.scheduler.submit(schedule)
        for upstream in ["nothing-by-this-name", scheduled.id.rawValue] {
            await #expect {
                _ = try await h.scheduler.submit(Self.job("x", [("first", .success), (upstream, .success)]))
            } throws: { error in
                guard case SchedulerError.invalid(let field, _) = error else { return false }
                return field == "dependsOn[0].job" || field == "dependsOn[1].job"
            }
        }
        await h.scheduler.depose()
    }
}

/// Broadcast jobs (`placement.mode each-node`): one task bound to each ready node that matches.
@Suite struct BroadcastTests {
    @Test func aBroadcastJobRunsOneTaskOnEachMatchingNodeAndNowhereElse() async throws {
        let h = try await SchedulerHarness()
        for (id, zone) in [("n1", "a"), ("n2", "a"), ("n3", "a"), ("n4", "b")] {
            var node = SchedulerCoreTests.node(NodeID(id)!)
            node.labels = ["zone": zone]
            _ = try await h.scheduler.register(node, claim: .bootstrap(credentialDigest: "d-\(id)"))
        }
        var spec = SchedulerCoreTests.spec("shard", cpu: 1)
        spec.placement = .eachNode
        spec.constraints = ["zone": "a"]
        let job = try await h.scheduler.submit(spec)
        #expect(job.spec.count == 3)
        #expect(job.nodes == ["n1", "n2", "n3"])
        try await h.run(until: 1001)
        var placed: [NodeID: [Allocation]] = [:]
        for node in ["n1", "n2", "n3", "n4"] as [NodeID] {
            placed[node] = try await h.scheduler.poll(node: node, timeout: .milliseconds(1)).allocations
        }
        #expect(placed["n1"]?.map(\.id.task.index) == [0])
        #expect(placed["n2"]?.map(\.id.task.index) == [1])
        #expect(placed["n3"]?.map(\.id.task.index) == [2])
        #expect(placed["n4"]?.isEmpty == true)
        #expect(placed.values.flatMap { $0 }.allSatisfy { $0.taskCount == 3 })

        // Only the nodes that match; none is a 422 at submission.
        var second = SchedulerCoreTests.spec("again", cpu: 1)
        second.placement = .eachNode
        second.constraints = ["zone": "b"]
        let onB = try await h.scheduler.submit(second)
        #expect(onB.nodes == ["n4"])
        var none = spec
        none.constraints = ["zone": "c"]
        await #expect(throws: SchedulerError.self) { _ = try await h.scheduler.submit(none) }
        await h.scheduler.depose()
    }
}
