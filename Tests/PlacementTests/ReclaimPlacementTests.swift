import CorralModel
import Testing

@testable import Placement

/// Reclamation in placement: a reclaimable task goes where the forecast leaves room under the ceiling,
/// reserved or not; never where guaranteed use is forecast to need it; and its request does not take a
/// guaranteed task's reservation room.
@Suite struct ReclaimPlacementTests {
    static let capacity = ResourceVector(cpuMillis: 8000, memory: 16 << 30, pids: 1000)
    static let oneCore = ResourceVector(cpuMillis: 1000, memory: 1 << 30)

    /// Two nodes fully reserved by guaranteed work; n1's forecast says it uses 30% CPU, n2's 85%.
    static func cluster(reclamation: Feasibility? = Feasibility(ceiling: 0.9)) -> ClusterView {
        var view = ClusterView(weights: PlacementWeights(connections: 0), reclamation: reclamation)
        for id in ["n1", "n2"] {
            view.upsert(NodeDescription(id: id, capacity: capacity))
            view.reserve(ResourceVector(cpuMillis: 8000, memory: 8 << 30), on: id)
        }
        view.setReclaimBound("n1", NodeLoad(cpu: 0.3, memory: 0.2, io: 0))
        view.setReclaimBound("n2", NodeLoad(cpu: 0.85, memory: 0.2, io: 0))
        return view
    }

    @Test func aReclaimableTaskUsesForecastIdleCapacityInsideReservations() throws {
        var view = Self.cluster()
        guard case .failure = view.place(view.request(Self.oneCore)) else {
            Issue.record("a guaranteed task placed on fully reserved nodes")
            return
        }
        // n1: (0.9 - 0.3) * 8 = 4.8 cores forecast idle; n2: 0.4 core.
        for _ in 0..<4 { #expect(try view.placeReclaimable(view.request(Self.oneCore)).get().node == "n1") }
        guard case .failure(let reason) = view.placeReclaimable(view.request(Self.oneCore)) else {
            Issue.record("a fifth core on n1 before its report, or one on n2 whose forecast needs it")
            return
        }
        #expect(reason.description.hasPrefix("no node has forecast-idle room for the reclaimable task"), "\(reason)")
        #expect(reason.short[.cpu] == 2)
        // Reclaimable requests are kept apart: the guaranteed reservations are what they were.
        #expect(view.node("n1")?.reserved.cpuMillis == 8000)
    }

    @Test func aNodeWithoutAForecastOffersNothingToReclaim() {
        var view = ClusterView(reclamation: Feasibility(ceiling: 0.9))
        view.upsert(NodeDescription(id: "fresh", capacity: Self.capacity))
        guard case .failure = view.placeReclaimable(view.request(Self.oneCore)) else {
            Issue.record("placed on a node whose use nobody has forecast")
            return
        }
        view.setReclaimBound("fresh", NodeLoad(cpu: 0, memory: 0, io: 0))
        #expect((try? view.placeReclaimable(view.request(Self.oneCore)).get())?.node == "fresh")
    }

    @Test func guaranteedFeasibilityCountsReclaimableRequestsAsRoomItCanTakeBack() throws {
        var view = ClusterView(feasibility: Feasibility(ceiling: 0.9), reclamation: Feasibility(ceiling: 0.9))
        view.upsert(NodeDescription(id: "n1", capacity: Self.capacity))
        view.setUpperBounds("n1", [NodeLoad(cpu: 0.2, memory: 0.1, io: 0)])
        view.setReclaimBound("n1", NodeLoad(cpu: 0.2, memory: 0.1, io: 0))
        for _ in 0..<5 { _ = try view.placeReclaimable(view.request(Self.oneCore)).get() }
        view.report("n1", running: 5)
        // The report's forecast now has the five reclaimable cores in use: 0.2 + 5/8.
        view.setUpperBounds("n1", [NodeLoad(cpu: 0.825, memory: 0.1, io: 0)])
        view.setReclaimBound("n1", NodeLoad(cpu: 0.825, memory: 0.1, io: 0))
        guard case .failure = view.placeReclaimable(view.request(Self.oneCore)) else {
            Issue.record("more reclaimable work on a node forecast near its ceiling")
            return
        }
        // A guaranteed task may still have the room: the agent evicts reclaimable work for it.
        #expect(try view.place(view.request(Self.oneCore)).get().node == "n1")
    }

    @Test func releasedReclaimableRequestsFreeTheirRoom() throws {
        var view = Self.cluster()
        for _ in 0..<4 { _ = try view.placeReclaimable(view.request(Self.oneCore)).get() }
        view.report("n1", running: 4)
        view.setReclaimBound("n1", NodeLoad(cpu: 0.3, memory: 0.2, io: 0))
        // Capacity bounds reclaimable requests too: 8 cores at most, whatever the forecast says.
        view.setReclaimBound("n1", NodeLoad(cpu: 0, memory: 0, io: 0))
        for _ in 0..<3 { _ = try view.placeReclaimable(view.request(Self.oneCore)).get() }
        view.report("n1", running: 7)
        #expect(view.reclaimable(slot: 0).cpuMillis == 1000)
        view.releaseReclaimable(Self.oneCore, on: "n1")
        #expect(view.reclaimable(slot: 0).cpuMillis == 2000)
    }

    @Test func withoutReclamationAReclaimableTaskIsPlacedByRequests() throws {
        var view = Self.cluster(reclamation: nil)
        guard case .failure = view.placeReclaimable(view.request(Self.oneCore)) else {
            Issue.record("placed beyond the reservations with reclamation off")
            return
        }
        // Placed by requests, it holds a reservation, and its release returns that reservation.
        view.release(ResourceVector(cpuMillis: 2000, memory: 0), on: "n1")
        let choice = try view.placeReclaimable(view.request(Self.oneCore)).get()
        #expect(choice.node == "n1" && view.node("n1")?.reserved.cpuMillis == 7000)
        view.releaseReclaimable(Self.oneCore, on: "n1")
        #expect(view.node("n1")?.reserved.cpuMillis == 6000)
        view.reserveReclaimable(Self.oneCore, on: "n1")
        #expect(view.node("n1")?.reserved.cpuMillis == 7000 && view.node("n1")?.reclaimableReserved == .zero)
    }

    @Test func idleReservedIsWhatTheForecastLeavesOfTheReservations() {
        let view = Self.cluster()
        // n1: min(8, 7.2) - 0.3 * 8 = 4.8 cores; memory: min(8 GiB, 14.4 GiB) - 0.2 * 16 GiB = 4.8 GiB.
        let idle = view.idleReserved("n1", ceiling: 0.9)
        #expect(idle?.cpuMillis == 4800)
        #expect(idle?.memory == Int64((8.0 - 3.2) * Double(1 << 30)))
        // n2: min(8, 7.2) - 0.85 * 8 = 0.4 core.
        #expect(view.idleReserved("n2", ceiling: 0.9)?.cpuMillis == 400)
    }
}
