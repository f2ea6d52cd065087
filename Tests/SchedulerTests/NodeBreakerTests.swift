import CorralModel
import CorralProtocol
import TestSupport
import Testing

@testable import Scheduler

/// The node circuit breaker: as a machine, and in the scheduler with an injected clock.
@Suite struct NodeBreakerTests {
    let probe = AllocationID(task: TaskID(job: "j1", index: 0), attempt: 1)

    /// Every state x every event: the state after, and whether the node's placeability changed.
    @Test func everyStateAndEvent() {
        let other = AllocationID(task: TaskID(job: "j2", index: 0), attempt: 1)
        let states: [(String, NodeBreaker.State)] = [
            ("closed0", .closed(failures: 0)), ("closed1", .closed(failures: 1)), ("open", .open(until: 10)),
            ("halfOpen", .halfOpen), ("probing", .probing(probe, since: 5)),
        ]
        let events: [(String, NodeBreaker.Event)] = [
            ("failed", .launchFailed("x", at: 6)), ("launchedProbe", .launched(probe)),
            ("launchedOther", .launched(other)), ("placed", .placed(other, at: 6)), ("tickEarly", .tick(at: 9)),
            ("tickLate", .tick(at: 70)),
        ]
        // threshold 2, cool-down 10: (state, event) -> (state after, admits changed)
        let expected: [String: (NodeBreaker.State, Bool)] = [
            "closed0 failed": (.closed(failures: 1), false), "closed1 failed": (.open(until: 16), true),
            "closed0 launchedProbe": (.closed(failures: 0), false),
            "closed1 launchedProbe": (.closed(failures: 0), false),
            "closed0 launchedOther": (.closed(failures: 0), false),
            "closed1 launchedOther": (.closed(failures: 0), false),
            "closed0 placed": (.closed(failures: 0), false), "closed1 placed": (.closed(failures: 1), false),
            "closed0 tickEarly": (.closed(failures: 0), false), "closed1 tickEarly": (.closed(failures: 1), false),
            "closed0 tickLate": (.closed(failures: 0), false), "closed1 tickLate": (.closed(failures: 1), false),
            "open failed": (.open(until: 10), false), "open launchedProbe": (.open(until: 10), false),
            "open launchedOther": (.open(until: 10), false), "open placed": (.open(until: 10), false),
            "open tickEarly": (.open(until: 10), false), "open tickLate": (.halfOpen, true),
            "halfOpen failed": (.open(until: 16), true), "halfOpen launchedProbe": (.halfOpen, false),
            "halfOpen launchedOther": (.halfOpen, false), "halfOpen placed": (.probing(other, since: 6), true),
            "halfOpen tickEarly": (.halfOpen, false), "halfOpen tickLate": (.halfOpen, false),
            "probing failed": (.open(until: 16), false), "probing launchedProbe": (.closed(failures: 0), true),
            "probing launchedOther": (.probing(probe, since: 5), false),
            "probing placed": (.probing(probe, since: 5), false),
            "probing tickEarly": (.probing(probe, since: 5), false),
            "probing tickLate": (.halfOpen, true),
        ]
        for (stateName, state) in states {
            for (eventName, event) in events {
                var breaker = NodeBreaker(threshold: 2, cooldown: 10, state: state)
                let changed = breaker.handle(event)
                let key = "\(stateName) \(eventName)"
                guard let (after, flips) = expected[key] else {
                    Issue.record("no expectation for \(key)")
                    continue
                }
                #expect(breaker.state == after && changed == flips, "\(key): \(breaker.state), changed \(changed)")
            }
        }
        #expect(expected.count == states.count * events.count)
    }

    /// Applies `event`; whether the breaker's admitting changed.
    func step(_ breaker: inout NodeBreaker, _ event: NodeBreaker.Event) -> Bool { breaker.handle(event) }

    @Test func tripsAfterTheThresholdCoolsDownAndClosesOnAProbeThatLaunches() {
        var breaker = NodeBreaker(threshold: 3, cooldown: 10)
        var changed = [
            step(&breaker, .launchFailed("cgroup", at: 1)), step(&breaker, .launched(probe)),
            step(&breaker, .launchFailed("cgroup", at: 2)), step(&breaker, .launchFailed("cgroup", at: 3)),
        ]
        #expect(changed == [false, false, false, false], "a launch in between starts the count again")
        #expect(breaker.admits)
        let tripped = step(&breaker, .launchFailed("cgroup", at: 4))
        #expect(tripped, "the third in a row trips it")
        #expect(breaker.state == .open(until: 14) && breaker.trips == 1)
        #expect(breaker.reason?.contains("3 launches in a row failed on the node: cgroup") == true)
        changed = [step(&breaker, .tick(at: 13.9)), step(&breaker, .tick(at: 14))]
        #expect(changed == [false, true] && breaker.state == .halfOpen && breaker.admits)
        let placed = step(&breaker, .placed(probe, at: 15))
        #expect(placed && !breaker.admits, "one probe, then nothing more")
        let launched = step(&breaker, .launched(probe))
        #expect(launched && breaker.state == .closed(failures: 0))
    }

    @Test func aProbeThatFailsOpensItAgainAndAProbeNeverHeardOfIsReplaced() {
        var breaker = NodeBreaker(threshold: 1, cooldown: 10)
        _ = step(&breaker, .launchFailed("image", at: 0))
        _ = step(&breaker, .tick(at: 10))
        _ = step(&breaker, .placed(probe, at: 10))
        let failed = step(&breaker, .launchFailed("image", at: 11))
        #expect(!failed && breaker.state == .open(until: 21) && breaker.trips == 2)
        _ = step(&breaker, .tick(at: 21))
        _ = step(&breaker, .placed(probe, at: 21))
        let replaced = step(&breaker, .tick(at: 81))
        #expect(replaced && breaker.state == .halfOpen, "a probe silent for 60 s is replaced")
    }

    /// A node whose launches fail for its own reasons is tripped (its tasks go elsewhere at once), skipped,
    /// probed after the cool-down, and trusted again when the probe launches.
    @Test func aFailingNodeIsTrippedSkippedProbedAndTrustedAgain() async throws {
        let h = try await SchedulerHarness {
            $0.breakerThreshold = 2
            $0.breakerCooldown = 10
        }
        for node in ["bad", "good"] as [NodeID] {
            var record = SchedulerCoreTests.node(node, cores: 1)
            record.labels = ["role": node.rawValue]
            _ = try await h.scheduler.register(record, claim: .bootstrap(credentialDigest: "d-\(node)"))
        }
        // Two one-core jobs pinned to the bad node fail there for the node's reason.
        var pinned = SchedulerCoreTests.spec("pinned", cpu: 1, count: 1)
        pinned.constraints = ["role": "bad"]
        _ = try await h.scheduler.submit(pinned)
        for second in 1...2 {
            let orders = try await h.scheduler.poll(node: "bad", timeout: .milliseconds(1))
            #expect(orders.allocations.count == 1)
            _ = try await h.scheduler.heartbeat(
                node: "bad",
                reports: orders.allocations.map {
                    .init(id: $0.id, state: .failed, error: "cgroup: No such file", nodeFault: true)
                }, usage: .idle)
            try await h.run(until: 1000 + Double(second))
        }
        let tripped = try #require(await h.scheduler.nodes.first { $0.id == "bad" })
        #expect(tripped.breaker == "open")
        #expect(tripped.conditions == ["breaker-open"])
        #expect(tripped.breakerReason?.contains("cgroup: No such file") == true)
        // Skipped: work that could go anywhere goes to the good node; the pinned job waits.
        _ = try await h.scheduler.submit(SchedulerCoreTests.spec("anywhere", cpu: 0.5))
        try await h.run(until: 1003)
        #expect(try await h.scheduler.poll(node: "bad", timeout: .milliseconds(1)).allocations.isEmpty)
        #expect(try await h.scheduler.poll(node: "good", timeout: .milliseconds(1)).allocations.count == 1)
        // Cooled down: one probe, the pinned job's retry.
        try await h.run(until: 1013)
        let probe = try await h.scheduler.poll(node: "bad", timeout: .milliseconds(1)).allocations
        #expect(probe.count == 1)
        #expect(await h.scheduler.nodes.first { $0.id == "bad" }?.breaker == "probing")
        _ = try await h.scheduler.heartbeat(
            node: "bad", reports: probe.map { .init(id: $0.id, state: .running) }, usage: .idle)
        #expect(await h.scheduler.nodes.first { $0.id == "bad" }?.breaker == "closed", "trusted again")
        await h.scheduler.depose()
    }

    @Test func aTaskFailingByItsOwnDoingDoesNotTripTheNode() async throws {
        let h = try await SchedulerHarness { $0.breakerThreshold = 1 }
        _ = try await h.scheduler.register(SchedulerCoreTests.node("n1"), claim: .bootstrap(credentialDigest: "d"))
        _ = try await h.scheduler.submit(SchedulerCoreTests.spec("typo"))
        try await h.run(until: 1001)
        let orders = try await h.scheduler.poll(node: "n1", timeout: .milliseconds(1))
        _ = try await h.scheduler.heartbeat(
            node: "n1",
            reports: orders.allocations.map { .init(id: $0.id, state: .failed, error: "cannot execute /nope") },
            usage: .idle)
        #expect(await h.scheduler.nodes.first?.breaker == "closed")
        await h.scheduler.depose()
    }
}
