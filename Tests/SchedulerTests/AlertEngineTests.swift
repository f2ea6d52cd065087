import CorralModel
import CorralProtocol
import Forecast
import Scheduler
import TestSupport
import Testing

@Suite struct AlertEngineTests {
    static let rule = AlertRule(name: "down", kind: .nodeDown, webhook: "http://127.0.0.1:9/x", resendSeconds: 60)

    static func down(_ node: String, since: Double = 100) -> AlertCondition {
        AlertCondition(rule: "down", subject: node, summary: "node \(node) is down", since: since)
    }

    @Test func aConditionFiresOnceIsResentAfterItsIntervalAndResolvesOnce() {
        var engine = AlertEngine()
        let first = engine.evaluate([Self.down("n1")], rules: [Self.rule], now: 110)
        #expect(first.map(\.notification.status) == ["firing"])
        #expect(first.first?.webhook == Self.rule.webhook)
        #expect(first.first?.notification.id == "down/n1/100000", "rule/subject/start in ms")
        let again = engine.evaluate([Self.down("n1")], rules: [Self.rule], now: 111)
        #expect(again.isEmpty, "no duplicate")
        let early = engine.evaluate([Self.down("n1")], rules: [Self.rule], now: 169)
        #expect(early.isEmpty, "not yet resent")
        let resent = engine.evaluate([Self.down("n1")], rules: [Self.rule], now: 170)
        #expect(resent.map(\.notification.resends) == [1])
        #expect(resent.first?.notification.id == first.first?.notification.id)
        #expect(engine.firing.count == 1)
        let resolved = engine.evaluate([], rules: [Self.rule], now: 175)
        #expect(resolved.map(\.notification.status) == ["resolved"])
        #expect(resolved.first?.notification.endsAt == 175)
        #expect(resolved.first?.notification.id == first.first?.notification.id)
        let after = engine.evaluate([], rules: [Self.rule], now: 176)
        #expect(after.isEmpty, "resolved once")
        #expect(engine.firing.isEmpty)
    }

    @Test func aFloodIsBoundedAndARuleRemovedFromTheConfigurationResolvesNothing() {
        var engine = AlertEngine(capacity: 2)
        let sent = engine.evaluate((1...5).map { Self.down("n\($0)") }, rules: [Self.rule], now: 110)
        #expect(sent.count == 2 && engine.withheld == 3)
        let removed = engine.evaluate([], rules: [], now: 111)
        #expect(removed.isEmpty)
        #expect(engine.firing.isEmpty)
    }

    @Test func theDetectorNeedsItsRunOfSamplesOutsideTheInterval() {
        var judge = IntervalAnomaly(required: 3, minimumHalfWidth: 0.02)
        let verdicts = [(0.9, false), (0.9, false), (0.55, false), (0.1, false), (0.1, false), (0.1, true)].map {
            ($0.1, judge.observe($0.0, mean: 0.5, halfWidth: 0.1))
        }
        // Two above, back inside (the run starts over), then three below in a row.
        #expect(verdicts.allSatisfy { $0.0 == $0.1 })
        #expect(judge.last?.low == 0.4 && judge.last?.high == 0.6)
        var smooth = IntervalAnomaly(required: 1, minimumHalfWidth: 0.02)
        let ripple = smooth.observe(0.51, mean: 0.5, halfWidth: 0.0001)
        #expect(!ripple, "the width's floor keeps a ripple normal")
    }

    @Test func eachRuleKindIsValidatedNamingItsField() {
        let bad = AlertRule(
            name: "no spaces", kind: .tenantQuota, webhook: "ftp://x", resendSeconds: 0, threshold: -1,
            activeSeconds: 1e9, samples: 0)
        let fields = Set(bad.problems(prefix: "alerts[0].").map(\.field))
        #expect(
            fields == [
                "alerts[0].name", "alerts[0].webhook", "alerts[0].resendSeconds", "alerts[0].threshold",
                "alerts[0].activeSeconds", "alerts[0].samples",
            ])
        #expect(Self.rule.problems(prefix: "").isEmpty)
    }
}

@Suite struct AlertConditionTests {
    @Test func aTenantOverItsQuotaShareIsSeenPerResource() {
        var configuration = SchedulerCore.Configuration(
            quotas: ["acme": TenantQuota(cpu: 1, memory: 4 << 30, runningTasks: 20)])
        configuration.alerts = [
            AlertRule(name: "quota", kind: .tenantQuota, webhook: "http://127.0.0.1:9/", threshold: 0.5)
        ]
        var core = SchedulerCore(configuration: configuration)
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("big", cpu: 0.75), id: "j1", now: 0), now: 0)
        _ = core.schedule(now: 0)
        let conditions = core.alertConditions(now: 1)
        #expect(conditions.map(\.subject) == ["acme/cpu"])
        #expect(conditions.first?.summary == "tenant acme holds 75% of its cpu quota (over 50%)")
    }
}

extension AlertConditionTests {
    /// A node whose CPU climbs towards its capacity: the capacity rule sees the 95% bound reach 100% within
    /// a horizon, and the node-tripped rule sees an open breaker.
    @Test func aClimbingNodeReachesCapacityAndATrippedNodeIsSeen() throws {
        var configuration = SchedulerCore.Configuration(heartbeatInterval: 5)
        configuration.breakerThreshold = 1
        configuration.alerts = [
            AlertRule(name: "capacity", kind: .capacity, webhook: "http://127.0.0.1:9/"),
            AlertRule(name: "tripped", kind: .nodeTripped, webhook: "http://127.0.0.1:9/"),
        ]
        var core = SchedulerCore(configuration: configuration)
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        core.register(SchedulerCoreTests.node("n2"), now: 0)
        for i in 0..<60 {
            let t = Double(i) * 5
            _ = core.heartbeat(
                node: "n1", reports: [], usage: NodeLoad(cpu: 0.3 + 0.01 * Double(i), memory: 0.2, io: 0), now: t)
            _ = core.heartbeat(node: "n2", reports: [], usage: NodeLoad(cpu: 0.2, memory: 0.2, io: 0), now: t)
        }
        for job in core.forecaster.refitWork(limit: 8) { core.installForecast(ARIMAForecaster.refit(job)) }
        let capacity = core.alertConditions(now: 300).filter { $0.rule == "capacity" }
        #expect(capacity.map(\.subject) == ["n1/cpu"], "\(capacity.map(\.summary))")
        #expect(capacity.first?.summary.contains("(95% forecast bound)") == true)

        // One launch failing for the node's own reason trips n2 (threshold 1).
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("work"), id: "j1", now: 300), now: 300)
        let placed = core.schedule(now: 300)
        core.deliver(placed)
        let node = try #require(placed.first?.machine.node)
        let failed = AllocationReport(id: placed[0].allocation!, state: .failed, error: "no disk", nodeFault: true)
        _ = core.heartbeat(node: node, reports: [failed], usage: NodeLoad(cpu: 0.2, memory: 0.2, io: 0), now: 301)
        let tripped = core.alertConditions(now: 302).filter { $0.rule == "tripped" }
        #expect(tripped.map(\.subject) == [node.rawValue])
        #expect(tripped.first?.summary.contains("circuit breaker is open") == true, "\(tripped.map(\.summary))")
    }
}
