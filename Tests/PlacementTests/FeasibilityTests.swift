import CorralModel
import Testing

@testable import Placement

/// Forecast-aware feasibility: a node whose forecast upper bound leaves too little under the ceiling is
/// skipped, the reason names the busiest, and what was placed since a node's report counts against it.
@Suite struct FeasibilityTests {
    static let capacity = ResourceVector(cpuMillis: 8000, memory: 16 << 30, pids: 1000)
    static let oneCore = ResourceVector(cpuMillis: 1000, memory: 1 << 30)

    static func cluster(_ feasibility: Feasibility?) -> ClusterView {
        var view = ClusterView(weights: PlacementWeights(connections: 0), feasibility: feasibility)
        for id in ["n1", "n2"] { view.upsert(NodeDescription(id: id, capacity: capacity)) }
        // n1 scores better (lower load term), but its forecast's upper bound is 85% CPU.
        view.setLoads("n1", [NodeLoad(cpu: 0.2, memory: 0.1, io: 0)])
        view.setLoads("n2", [NodeLoad(cpu: 0.5, memory: 0.1, io: 0)])
        view.setUpperBounds("n1", [NodeLoad(cpu: 0.85, memory: 0.1, io: 0)])
        view.setUpperBounds("n2", [NodeLoad(cpu: 0.6, memory: 0.1, io: 0)])
        return view
    }

    @Test func aNodeForecastToBeBusyIsSkipped() throws {
        var requestsOnly = Self.cluster(nil)
        #expect(try requestsOnly.choose(requestsOnly.request(Self.oneCore)).get().node == "n1")
        var view = Self.cluster(Feasibility(ceiling: 0.9))
        let choice = try view.choose(view.request(Self.oneCore)).get()
        #expect(choice.node == "n2", "n1's 0.85 + 1/8 is over 0.9")
        #expect(view.chooseByScan(view.request(Self.oneCore))?.node == "n2")
    }

    @Test func whenEveryNodeIsForecastBusyTheReasonNamesTheBusiest() {
        var view = Self.cluster(Feasibility(ceiling: 0.9))
        view.setUpperBounds("n2", [NodeLoad(cpu: 0.97, memory: 0.1, io: 0)])
        guard case .failure(let reason) = view.choose(view.request(Self.oneCore)) else {
            Issue.record("placed on a node forecast to be busy")
            return
        }
        #expect(reason.forecastBusy == 2 && reason.short.isEmpty)
        #expect(reason.busiest == "n2 forecast 97% CPU")
        #expect(reason.description.contains("forecast too busy on 2 (n2 forecast 97% CPU)"), "\(reason)")
    }

    @Test func tasksPlacedSinceTheLastReportCountAgainstTheForecastHeadroom() throws {
        var view = Self.cluster(Feasibility(ceiling: 0.9))
        view.setUpperBounds("n1", [NodeLoad(cpu: 0.6, memory: 0.1, io: 0)])
        view.setUpperBounds("n2", [NodeLoad(cpu: 0.88, memory: 0.1, io: 0)])
        // n1: (0.9 - 0.6) * 8 = 2.4 cores of headroom; n2 none.
        #expect(try view.place(view.request(Self.oneCore)).get().node == "n1")
        #expect(try view.place(view.request(Self.oneCore)).get().node == "n1")
        guard case .failure = view.place(view.request(Self.oneCore)) else {
            Issue.record("a third core on n1 before its report: 0.6 + 3/8 is over 0.9")
            return
        }
        // The report's forecast now includes the two (still 0.6 here): the headroom is back.
        view.report("n1", running: 2)
        #expect(try view.place(view.request(Self.oneCore)).get().node == "n1")
    }

    @Test func memoryIsCheckedTooAndRequestsStillBind() throws {
        var view = Self.cluster(Feasibility(ceiling: 0.9))
        view.setUpperBounds("n1", [NodeLoad(cpu: 0.1, memory: 0.88, io: 0)])
        view.setUpperBounds("n2", [NodeLoad(cpu: 0.1, memory: 0.1, io: 0)])
        #expect(try view.choose(view.request(Self.oneCore)).get().node == "n2", "n1's memory bound")
        // Forecast idle does not make room that requests have taken.
        view.reserve(ResourceVector(cpuMillis: 7500, memory: 1 << 30), on: "n2")
        view.setUpperBounds("n1", [NodeLoad(cpu: 0.1, memory: 0.1, io: 0)])
        #expect(try view.choose(view.request(Self.oneCore)).get().node == "n1")
    }
}
