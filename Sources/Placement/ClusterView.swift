import CorralModel

/// Everything placement knows about the cluster, laid out for speed: per-node values in parallel arrays
/// indexed by a node slot, and the nodes grouped into shapes (same capacity and labels) whose
/// `ShapeTree`s answer "lowest cost node that fits" in about log(n) steps. Every change (a placement, a
/// release, a report, a new forecast) updates one leaf and its ancestors.
public struct ClusterView: Sendable {
    public let weights: PlacementWeights
    /// Forecast horizons the load term knows: each node has a load per horizon, and each shape a tree
    /// per horizon, so a task is scored by the load over its own expected duration (a request names
    /// its horizon by index). 1 for one load per node.
    public let horizons: Int
    /// Forecast-aware feasibility, or nil for requests alone.
    public let feasibility: Feasibility?
    /// Reclamation: reclaimable tasks go where the forecast leaves room under this ceiling, even inside
    /// other tasks' reservations; nil places them by requests like any other.
    public let reclamation: Feasibility?

    // Per node slot.
    var ids: [String] = []
    var slotOfID: [String: Int32] = [:]
    var capacity: [ResourceVector] = []
    var reserved: [ResourceVector] = []
    var running: [Int32] = []
    var placedSinceReport: [Int32] = []
    /// What was placed on each node since its last report (its forecast does not know of it yet).
    var placedResources: [ResourceVector] = []
    var weight: [Double] = []
    var ready: [Bool] = []
    /// `horizons` loads per slot: load[slot * horizons + h].
    var load: [NodeLoad] = []
    /// `horizons` upper bounds of the forecast load per slot, for `feasibility`.
    var upper: [NodeLoad] = []
    /// The upper bound of the forecast load over the near term for `reclamation`, and whether the node
    /// has one yet (a node without a forecast offers nothing to reclaim).
    var reclaimUpper: [NodeLoad] = []
    var reclaimBounded: [Bool] = []
    /// What reclaimable tasks on each node requested: not in `reserved`, so that a guaranteed task may
    /// claim it (the agent evicts them under pressure).
    var reclaimableReserved: [ResourceVector] = []
    var shapeOf: [Int32] = []
    var leafOf: [Int32] = []
    var rank: [UInt64] = []
    /// wlc as last seen by `refresh` (0 while not ready), to notice when the maximum node drops.
    var cachedWLC: [Double] = []

    // Per shape.
    var shapes: [Shape] = []
    var shapeOfKey: [ShapeKey: Int32] = [:]
    /// Reused by `choose` for the shapes it will search.
    var scratch: [ShapeBound] = []

    /// The largest wlc among ready nodes, the divisor of the connection term.
    var maxWLC: Double = 0
    /// Set when `maxWLC` changed: every key is recomputed before the next choice.
    var keysStale = false

    public init(
        weights: PlacementWeights = PlacementWeights(), horizons: Int = 1, feasibility: Feasibility? = nil,
        reclamation: Feasibility? = nil
    ) {
        self.weights = weights
        self.horizons = max(1, horizons)
        self.feasibility = feasibility
        self.reclamation = reclamation
    }

    public var nodeCount: Int { ids.count }

    struct ShapeKey: Hashable {
        var capacity: ResourceVector
        var labels: [String: String]
    }

    struct Shape {
        var key: ShapeKey
        var slots: [Int32]
        /// One per horizon.
        var trees: [ShapeTree]
        /// 1 / capacity for the load term's request fractions (0 for an unmetered or absent resource).
        var inverseCPU: Double
        var inverseMemory: Double
        var inverseIO: Double

        /// Whether nodes of this shape carry every label a request is constrained to.
        func matches(_ constraints: [String: String]) -> Bool {
            constraints.allSatisfy { key.labels[$0.key] == $0.value }
        }
    }

    // MARK: Nodes

    /// Adds a node, or changes one already known (its reservations and counts are kept).
    public mutating func upsert(_ node: NodeDescription) {
        if let slot = slotOfID[node.id] {
            let s = Int(slot)
            weight[s] = max(node.weight, 1e-9)
            let key = ShapeKey(capacity: node.capacity, labels: node.labels)
            if shapes[Int(shapeOf[s])].key != key {
                capacity[s] = node.capacity
                move(slot: s, to: key)
            }
            refresh(slot: s)
            return
        }
        let s = ids.count
        ids.append(node.id)
        slotOfID[node.id] = Int32(s)
        capacity.append(node.capacity)
        reserved.append(.zero)
        running.append(0)
        placedSinceReport.append(0)
        placedResources.append(.zero)
        weight.append(max(node.weight, 1e-9))
        ready.append(node.ready)
        load.append(contentsOf: repeatElement(.idle, count: horizons))
        upper.append(contentsOf: repeatElement(.idle, count: horizons))
        reclaimUpper.append(.idle)
        reclaimBounded.append(false)
        reclaimableReserved.append(.zero)
        rank.append(Self.tieRank(node.id, seed: weights.seed))
        cachedWLC.append(0)
        shapeOf.append(-1)
        leafOf.append(-1)
        move(slot: s, to: ShapeKey(capacity: node.capacity, labels: node.labels))
        refresh(slot: s)
    }

    /// A node that is not ready (down, draining, unreachable) is never chosen.
    public mutating func setReady(_ id: String, _ isReady: Bool) {
        guard let slot = slotOfID[id] else { return }
        ready[Int(slot)] = isReady
        refresh(slot: Int(slot))
    }

    /// A node's report: how many tasks it runs now. Placements made before it are now in `running`, so
    /// the lag compensation count restarts.
    public mutating func report(_ id: String, running count: Int) {
        guard let slot = slotOfID[id] else { return }
        running[Int(slot)] = Int32(clamping: count)
        placedSinceReport[Int(slot)] = 0
        placedResources[Int(slot)] = .zero
        refresh(slot: Int(slot))
    }

    /// The node's forecast utilisation, from the scheduler's `LoadForecaster`: the same over every horizon.
    public mutating func setLoad(_ id: String, _ nodeLoad: NodeLoad) {
        setLoads(id, [nodeLoad])
    }

    /// The node's forecast utilisation over each horizon (the last given stands for any beyond).
    public mutating func setLoads(_ id: String, _ loads: [NodeLoad]) {
        guard let slot = slotOfID[id].map(Int.init), let last = loads.last else { return }
        for h in 0..<horizons { load[slot * horizons + h] = h < loads.count ? loads[h] : last }
        refresh(slot: slot)
    }

    /// Counts an allocation that exists already (rebuilding the view after a restart) against `id`.
    public mutating func reserve(_ resources: ResourceVector, on id: String) {
        guard let slot = slotOfID[id] else { return }
        reserved[Int(slot)] = reserved[Int(slot)] + resources
        refresh(slot: Int(slot))
    }

    /// Returns an ended allocation's resources to `id`.
    public mutating func release(_ resources: ResourceVector, on id: String) {
        guard let slot = slotOfID[id] else { return }
        reserved[Int(slot)] = reserved[Int(slot)] - resources
        refresh(slot: Int(slot))
    }

    public func node(_ id: String) -> NodeSnapshot? {
        guard let slot = slotOfID[id].map(Int.init) else { return nil }
        return NodeSnapshot(
            id: id, capacity: capacity[slot], reserved: reserved[slot], running: Int(running[slot]),
            placedSinceReport: Int(placedSinceReport[slot]), weight: weight[slot], ready: ready[slot],
            labels: shapes[Int(shapeOf[slot])].key.labels,
            loads: Array(load[(slot * horizons)..<((slot + 1) * horizons)]),
            reclaimableReserved: reclaimableReserved[slot])
    }

    public var nodeIDs: [String] { ids }

    // MARK: Keys

    /// A seeded 24-bit hash of the id: the tie-break between nodes of equal cost (SplitMix64 over FNV-1a).
    static func tieRank(_ id: String, seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in id.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return SplitMix64.mix(h) & 0xFF_FFFF
    }

    /// Costs are compared in fixed point (2^-30) so that adding a shape's request term keeps the order
    /// exact; the low 24 bits hold the tie rank.
    static let scale: Double = 1_073_741_824  // 2^30
    static let costLimit: Double = 1000

    static func fixed(_ cost: Double) -> UInt64 {
        UInt64((min(max(cost, 0), costLimit) * scale).rounded()) << 24
    }

    func wlc(_ s: Int) -> Double { Double(Int(running[s]) + Int(placedSinceReport[s]) + 1) / weight[s] }

    /// The request-independent part of node `s`'s cost over horizon `h`.
    func staticCost(_ s: Int, horizon h: Int) -> Double {
        let b = weights.connections
        let l = load[s * horizons + h]
        return b * (maxWLC > 0 ? wlc(s) / maxWLC : 0) + (1 - b)
            * (weights.cpu * l.cpu + weights.memory * l.memory + weights.io * l.io)
    }

    func entry(_ s: Int, horizon h: Int) -> ShapeTree.Entry {
        guard ready[s] else { return .empty }
        return ShapeTree.Entry(
            key: Self.fixed(staticCost(s, horizon: h)) | rank[s], slot: Int32(s), free: available(s, horizon: h))
    }

    /// Recomputes node `s`'s leaf after any change, or marks every key stale when max_wlc moved.
    mutating func refresh(slot s: Int) {
        let old = cachedWLC[s]
        let new = ready[s] ? wlc(s) : 0
        cachedWLC[s] = new
        if new > maxWLC {
            maxWLC = new
            keysStale = true
        } else if old == maxWLC && new < old && !keysStale {
            let current = currentMaxWLC()
            if current != maxWLC {
                maxWLC = current
                keysStale = true
            }
        }
        guard !keysStale else { return }
        let (shape, leaf) = (Int(shapeOf[s]), Int(leafOf[s]))
        for h in 0..<horizons { shapes[shape].trees[h].update(leaf: leaf, to: entry(s, horizon: h)) }
    }

    func currentMaxWLC() -> Double { cachedWLC.max() ?? 0 }

    /// Rebuilds every shape's tree with fresh keys.
    mutating func rekey() {
        maxWLC = currentMaxWLC()
        for index in shapes.indices { rebuild(shape: index) }
        keysStale = false
    }

    mutating func rebuild(shape index: Int) {
        shapes[index].trees = (0..<horizons).map { h in
            ShapeTree(leaves: shapes[index].slots.map { entry(Int($0), horizon: h) })
        }
    }

    private mutating func move(slot s: Int, to key: ShapeKey) {
        let old = Int(shapeOf[s])
        if old >= 0 {
            shapes[old].slots.removeAll { $0 == Int32(s) }
            for (leaf, other) in shapes[old].slots.enumerated() { leafOf[Int(other)] = Int32(leaf) }
            rebuild(shape: old)
        }
        let index: Int
        if let existing = shapeOfKey[key] {
            index = Int(existing)
        } else {
            index = shapes.count
            shapeOfKey[key] = Int32(index)
            func inverse(_ v: Int64) -> Double { v <= 0 || v >= ResourceVector.unmetered ? 0 : 1 / Double(v) }
            let io = key.capacity.ioRead >= ResourceVector.unmetered ? 0 : key.capacity.ioRead + key.capacity.ioWrite
            shapes.append(
                Shape(
                    key: key, slots: [],
                    trees: [], inverseCPU: inverse(key.capacity.cpuMillis),
                    inverseMemory: inverse(key.capacity.memory), inverseIO: inverse(io)))
        }
        shapeOf[s] = Int32(index)
        leafOf[s] = Int32(shapes[index].slots.count)
        shapes[index].slots.append(Int32(s))
        rebuild(shape: index)
    }
}
