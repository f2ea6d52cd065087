import CorralModel
import CorralProtocol
import Placement
import Scheduler
import TestSupport
import Testing

/// Forecast-aware feasibility in the scheduler's core: the forecaster's view of a node (here from its
/// heartbeats' load, before any ARIMA model: the moving mean) decides whether it can take a task, a task
/// no node can take waits with a reason naming the busiest node, and it is placed once a forecast drops.
@Suite struct ForecastFeasibilityTests {
    static func core() -> SchedulerCore {
        var configuration = SchedulerCore.Configuration(heartbeatInterval: 1, minimumTTL: 30)
        configuration.feasibility = Feasibility(ceiling: 0.9)
        var core = SchedulerCore(configuration: configuration)
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        core.register(SchedulerCoreTests.node("n2"), now: 0)
        return core
    }

    static func beat(_ core: inout SchedulerCore, _ node: NodeID, cpu: Double, at now: Double) {
        _ = core.heartbeat(node: node, reports: [], usage: NodeLoad(cpu: cpu, memory: 0.1, io: 0), now: now)
    }

    @Test func aNodeForecastBusyGetsNoTaskAndAWaitingTaskNamesTheBusiest() throws {
        var core = Self.core()
        Self.beat(&core, "n1", cpu: 0.95, at: 1)
        Self.beat(&core, "n2", cpu: 0.1, at: 1)
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("first"), id: "j1", now: 1), now: 1)
        let placed = core.schedule(now: 1)
        #expect(placed.map(\.machine.node) == ["n2"], "n1 is forecast at 95% CPU")

        // n2 gets busy too (its moving mean climbs to 0.76, and it holds a core): nothing fits.
        for t in 2...5 { Self.beat(&core, "n2", cpu: 0.97, at: Double(t)) }
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("second"), id: "j2", now: 5), now: 5)
        #expect(core.schedule(now: 5).isEmpty, "both nodes are forecast over the ceiling")
        let reason = try #require(core.blockedReason(job: "j2"))
        #expect(reason.contains("forecast too busy on 2 (n1 forecast 95% CPU)"), "\(reason)")

        // n1 quietens: its moving mean falls under 0.9 - 1/4, and the waiting task is placed there.
        for t in 6...9 { Self.beat(&core, "n1", cpu: 0, at: Double(t)) }
        let later = core.schedule(now: 9)
        #expect(later.map(\.machine.node) == ["n1"])
    }

    @Test func withoutFeasibilityRequestsAloneDecide() {
        var core = SchedulerCore(configuration: .init(heartbeatInterval: 1, minimumTTL: 30))
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        Self.beat(&core, "n1", cpu: 0.99, at: 1)
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("any"), id: "j1", now: 1), now: 1)
        #expect(core.schedule(now: 1).map(\.machine.node) == ["n1"])
    }
}
