import CorralModel
import Testing

@testable import Placement

/// Properties over many seeded random clusters and request streams: the tree search must agree with the
/// full scan on every decision, never choose a node that cannot take the task, and never reserve past
/// capacity. Clusters have one to three forecast horizons, each node a different load over each.
@Suite struct PlacementPropertyTests {
    static func randomCluster(_ g: inout SplitMix64, nodes: Int) -> ClusterView {
        // Half the clusters check forecast-aware feasibility, against random upper bounds.
        let feasibility = g.next(below: 2) == 0 ? Feasibility(ceiling: 0.7 + 0.3 * g.nextDouble()) : nil
        var view = ClusterView(
            weights: PlacementWeights(connections: g.nextDouble(), seed: g.next()), horizons: 1 + g.next(below: 3),
            feasibility: feasibility)
        for i in 0..<nodes {
            let cores = Int64([2, 4, 8, 16][g.next(below: 4)])
            let capacity = ResourceVector(
                cpuMillis: cores * 1000, memory: cores << 31,
                ioRead: g.next(below: 3) == 0 ? ResourceVector.unmetered : 50_000_000,
                ioWrite: 50_000_000, pids: 1000)
            view.upsert(
                NodeDescription(
                    id: "n\(i)", capacity: capacity, weight: Double(1 + g.next(below: 4)),
                    labels: ["zone": ["a", "b"][g.next(below: 2)]], ready: g.next(below: 10) != 0))
            view.report("n\(i)", running: g.next(below: 5))
            view.setLoads("n\(i)", randomLoads(&g, view.horizons))
            if feasibility != nil { view.setUpperBounds("n\(i)", randomLoads(&g, view.horizons)) }
        }
        return view
    }

    static func randomLoads(_ g: inout SplitMix64, _ horizons: Int) -> [NodeLoad] {
        (0..<horizons).map { _ in NodeLoad(cpu: g.nextDouble(), memory: g.nextDouble(), io: g.nextDouble() / 2) }
    }

    static func randomRequest(_ g: inout SplitMix64) -> (ResourceVector, [String: String]) {
        let resources = ResourceVector(
            cpuMillis: Int64([100, 250, 500, 1000, 1500, 3000][g.next(below: 6)]),
            memory: Int64(g.next(below: 8) + 1) << 28,
            ioRead: g.next(below: 4) == 0 ? 5_000_000 : 0, ioWrite: 0, pids: Int64(g.next(below: 3) * 50))
        return (resources, g.next(below: 4) == 0 ? ["zone": "a"] : [:])
    }

    @Test(arguments: 0..<20)
    func treeSearchAgreesWithFullScanOnEveryDecision(seed: UInt64) {
        var g = SplitMix64(seed: seed)
        var view = Self.randomCluster(&g, nodes: 1 + g.next(below: 300))
        var reference = view
        for step in 0..<400 {
            let (resources, constraints) = Self.randomRequest(&g)
            let horizon = g.next(below: view.horizons)
            let request = view.request(resources, constraints: constraints, horizon: horizon)
            let expected = reference.chooseByScan(
                reference.request(resources, constraints: constraints, horizon: horizon))
            switch view.place(request) {
            case .success(let choice):
                #expect(choice.slot == expected?.slot, "seed \(seed) step \(step)")
                reference.commit(resources, slot: choice.slot)
            case .failure:
                #expect(expected == nil, "seed \(seed) step \(step): the scan found \(String(describing: expected))")
            }
            // Now and then a node reports, frees what it ran, or goes down: the view must stay exact.
            if g.next(below: 10) == 0, let id = view.nodeIDs.randomElement(using: &g) {
                let running = g.next(below: 3)
                view.report(id, running: running)
                reference.report(id, running: running)
            }
            if g.next(below: 10) == 0, let id = view.nodeIDs.randomElement(using: &g) {
                let loads = Self.randomLoads(&g, view.horizons)
                view.setLoads(id, loads)
                reference.setLoads(id, loads)
            }
            if g.next(below: 25) == 0, let id = view.nodeIDs.randomElement(using: &g) {
                let ready = g.next(below: 2) == 0
                view.setReady(id, ready)
                reference.setReady(id, ready)
            }
        }
    }

    @Test(arguments: 100..<110)
    func placementNeverExceedsCapacityOrChoosesAnInfeasibleNode(seed: UInt64) throws {
        var g = SplitMix64(seed: seed)
        var view = Self.randomCluster(&g, nodes: 50)
        for _ in 0..<2000 {
            let (resources, constraints) = Self.randomRequest(&g)
            guard case .success(let choice) = view.place(view.request(resources, constraints: constraints)) else {
                continue
            }
            let node = try #require(view.node(choice.node))
            #expect(node.ready)
            #expect(constraints.allSatisfy { node.labels[$0.key] == $0.value })
            #expect(node.reserved.fits(in: node.capacity), "\(node.id): reserved \(node.reserved) of \(node.capacity)")
        }
    }
}
