import CorralModel
import Testing

@testable import Placement

@Suite struct PlacementBehaviourTests {
    static let capacity = ResourceVector(cpuMillis: 8000, memory: 32 << 30, pids: 1000)
    static let small = ResourceVector(cpuMillis: 100, memory: 64 << 20)

    @Test func withEqualLoadTheLeastConnectedPerWeightNodeWins() throws {
        var view = ClusterView(weights: PlacementWeights(connections: 1))
        view.upsert(NodeDescription(id: "busy", capacity: Self.capacity, weight: 1))
        view.upsert(NodeDescription(id: "heavy", capacity: Self.capacity, weight: 4))
        view.upsert(NodeDescription(id: "idle", capacity: Self.capacity, weight: 1))
        view.report("busy", running: 3)  // wlc 4
        view.report("heavy", running: 7)  // wlc 8/4 = 2
        view.report("idle", running: 2)  // wlc 3
        let choice = try view.choose(view.request(Self.small)).get()
        #expect(choice.node == "heavy")
    }

    @Test func lagCompensationSpreadsABurstBeforeAnyReport() {
        var view = ClusterView(weights: PlacementWeights(connections: 0.5))
        for i in 0..<4 { view.upsert(NodeDescription(id: "n\(i)", capacity: Self.capacity)) }
        var counts: [String: Int] = [:]
        for _ in 0..<40 {
            if case .success(let choice) = view.place(view.request(Self.small)) { counts[choice.node, default: 0] += 1 }
        }
        #expect(counts == ["n0": 10, "n1": 10, "n2": 10, "n3": 10])
        // The report folds the placements into `running`; the balance holds.
        view.report("n0", running: 10)
        #expect(view.node("n0")?.placedSinceReport == 0)
    }

    @Test func lowerForecastLoadWinsWhenConnectionsAreEqual() throws {
        var view = ClusterView(weights: PlacementWeights(connections: 0.2))
        view.upsert(NodeDescription(id: "hot", capacity: Self.capacity))
        view.upsert(NodeDescription(id: "cool", capacity: Self.capacity))
        view.setLoad("hot", NodeLoad(cpu: 0.9, memory: 0.5, io: 0))
        view.setLoad("cool", NodeLoad(cpu: 0.2, memory: 0.5, io: 0))
        #expect(try view.choose(view.request(Self.small)).get().node == "cool")
    }

    @Test("a task is scored by the load over its own horizon: cool now but hot later loses a long task")
    func eachRequestIsScoredByItsHorizon() throws {
        var view = ClusterView(weights: PlacementWeights(connections: 0.2), horizons: 2)
        view.upsert(NodeDescription(id: "rising", capacity: Self.capacity))
        view.upsert(NodeDescription(id: "steady", capacity: Self.capacity))
        view.setLoads("rising", [NodeLoad(cpu: 0.2, memory: 0.5, io: 0), NodeLoad(cpu: 0.9, memory: 0.5, io: 0)])
        view.setLoads("steady", [NodeLoad(cpu: 0.5, memory: 0.5, io: 0), NodeLoad(cpu: 0.5, memory: 0.5, io: 0)])
        #expect(try view.choose(view.request(Self.small, horizon: 0)).get().node == "rising")
        #expect(try view.choose(view.request(Self.small, horizon: 1)).get().node == "steady")
        #expect(view.node("rising")?.loads.map(\.cpu) == [0.2, 0.9])
        // one load stands for every horizon
        view.setLoad("rising", NodeLoad(cpu: 0.1, memory: 0.5, io: 0))
        #expect(try view.choose(view.request(Self.small, horizon: 1)).get().node == "rising")
        #expect(view.request(Self.small, horizon: 7).horizon == 1, "clamped to the horizons there are")
    }

    @Test func tiesAreBrokenBySeedDeterministically() throws {
        func first(seed: UInt64) throws -> String {
            var view = ClusterView(weights: PlacementWeights(seed: seed))
            for i in 0..<16 { view.upsert(NodeDescription(id: "n\(i)", capacity: Self.capacity)) }
            return try view.choose(view.request(Self.small)).get().node
        }
        #expect(try first(seed: 1) == first(seed: 1))
        let choices = try Set((0..<8).map { try first(seed: $0) })
        #expect(choices.count > 1, "different seeds should break the tie differently")
    }

    @Test func notReadyNodesAndUnmetConstraintsAreNeverChosen() throws {
        var view = ClusterView()
        view.upsert(NodeDescription(id: "down", capacity: Self.capacity, ready: false))
        view.upsert(NodeDescription(id: "b", capacity: Self.capacity, labels: ["zone": "b"]))
        view.upsert(NodeDescription(id: "a", capacity: Self.capacity, labels: ["zone": "a"]))
        #expect(try view.choose(view.request(Self.small, constraints: ["zone": "a"])).get().node == "a")
        view.setReady("a", false)
        guard case .failure(let reason) = view.choose(view.request(Self.small, constraints: ["zone": "a"])) else {
            Issue.record("placed on a node that is down")
            return
        }
        #expect(reason.notReady == 2)
        #expect(reason.constraintMismatch == 1)
    }

    @Test func theReasonNamesTheResourceThatBlockedAndOnHowManyNodes() {
        var view = ClusterView()
        view.upsert(NodeDescription(id: "a", capacity: Self.capacity))
        view.upsert(NodeDescription(id: "b", capacity: ResourceVector(cpuMillis: 64000, memory: 1 << 30)))
        let request = view.request(ResourceVector(cpuMillis: 16000, memory: 2 << 30))
        guard case .failure(let reason) = view.choose(request) else {
            Issue.record("a 16-core task fitted an 8-core node")
            return
        }
        #expect(reason.short == [.cpu: 1, .memory: 1])
        #expect(reason.description == "no node can take the task (2 nodes: cpu short on 1, memory short on 1)")
    }

    @Test func releasingResourcesMakesRoomAgain() throws {
        var view = ClusterView()
        view.upsert(NodeDescription(id: "only", capacity: ResourceVector(cpuMillis: 1000, memory: 1 << 30)))
        let task = ResourceVector(cpuMillis: 1000, memory: 1 << 20)
        #expect(try view.place(view.request(task)).get().node == "only")
        guard case .failure = view.place(view.request(task)) else {
            Issue.record("placed past capacity")
            return
        }
        view.release(task, on: "only")
        #expect(try view.place(view.request(task)).get().node == "only")
    }
}
