import CorralModel

/// Choosing a node: hard filters (ready, free >= request on every resource, constraints) and the lowest
/// cost, exactly as a scan of every node would find it, but through each shape's tree.
extension ClusterView {
    /// Compiles a request once: the shapes whose capacity and labels can take it are listed, so that
    /// repeated placements of one job's tasks skip that work until a new shape appears.
    /// `horizon`: which of the view's forecast horizons scores the request (0 the first; clamped).
    public func request(_ resources: ResourceVector, constraints: [String: String] = [:], horizon: Int = 0)
        -> PlacementRequest
    {
        PlacementRequest(
            resources: resources, constraints: constraints, horizon: min(max(horizon, 0), horizons - 1),
            shapes: eligibleShapes(resources, constraints), shapeCount: shapes.count)
    }

    func eligibleShapes(_ resources: ResourceVector, _ constraints: [String: String]) -> [Int32] {
        var eligible: [Int32] = []
        for (index, shape) in shapes.enumerated()
        where resources.fits(in: shape.key.capacity) && shape.matches(constraints) {
            eligible.append(Int32(index))
        }
        return eligible
    }

    /// The node the task would go to and its cost, or why no node can take it. Does not reserve.
    ///
    /// Shapes are searched in order of their cheapest node's cost, so the first usually holds the winner
    /// and the rest are dismissed at their root.
    public mutating func choose(_ request: PlacementRequest) -> Result<Choice, Unplaceable> {
        if keysStale { rekey() }
        let eligible =
            request.shapeCount == shapes.count ? request.shapes : eligibleShapes(request.resources, request.constraints)
        let r = request.resources
        let h = min(request.horizon, horizons - 1)
        let rungs = ShapeTree.Rungs(r)
        // Taken out of `self` while in use, so that clearing it reuses its storage instead of copying it.
        var order: [ShapeBound] = []
        swap(&order, &scratch)
        order.removeAll(keepingCapacity: true)
        shapes.withUnsafeBufferPointer { shapes in
            for index in eligible {
                let shape = UnsafePointer(shapes.baseAddress! + Int(index))
                let offset = requestOffset(r, shape.pointee)
                let lower = shape.pointee.trees[h].root.bound(rungs)
                guard lower != .max else { continue }
                order.append(ShapeBound(bound: lower &+ offset, offset: offset, shape: index))
            }
        }
        order.sort { $0.bound < $1.bound }
        var bestKey = UInt64.max
        var bestSlot = Int32.max
        shapes.withUnsafeBufferPointer { shapes in
            for candidate in order {
                if candidate.bound > bestKey { break }
                shapes[Int(candidate.shape)].trees[h].search(
                    request: r, rungs: rungs, offset: candidate.offset, bestKey: &bestKey, bestSlot: &bestSlot)
            }
        }
        swap(&order, &scratch)
        guard bestSlot != .max else { return .failure(unplaceable(request)) }
        let cost = Double((bestKey >> 24)) / Self.scale
        return .success(Choice(node: ids[Int(bestSlot)], slot: Int(bestSlot), cost: cost))
    }

    /// Chooses a node and reserves the request on it, counting it as placed since the node's last report.
    public mutating func place(_ request: PlacementRequest) -> Result<Choice, Unplaceable> {
        let result = choose(request)
        if case .success(let choice) = result { commit(request.resources, slot: choice.slot) }
        return result
    }

    /// Reserves a chosen node's share and counts the placement against it until the node's next report.
    /// Public for the full-scan reference (tests and `corral bench place`), which chooses its own slot.
    public mutating func commit(_ resources: ResourceVector, slot s: Int) {
        reserved[s] = reserved[s] + resources
        placedSinceReport[s] += 1
        placedResources[s] = placedResources[s] + resources
        refresh(slot: s)
    }

    /// The request-dependent part of the cost on nodes of `shape`: (1 - b) * Σ a_k * request_k / capacity_k,
    /// in fixed point.
    func requestOffset(_ r: ResourceVector, _ shape: Shape) -> UInt64 {
        let term =
            weights.cpu * Double(r.cpuMillis) * shape.inverseCPU + weights.memory * Double(r.memory)
            * shape.inverseMemory + weights.io * Double(r.ioRead + r.ioWrite) * shape.inverseIO
        return Self.fixed((1 - weights.connections) * term)
    }

    /// Why nothing fits: done only when placement failed, shape by shape, counting for each resource
    /// the nodes with too little of it free.
    func unplaceable(_ request: PlacementRequest) -> Unplaceable {
        var reason = Unplaceable(nodes: ids.count)
        let r = request.resources
        let h = min(request.horizon, horizons - 1)
        var short = (cpu: 0, memory: 0, ioRead: 0, ioWrite: 0, pids: 0)
        var forecastBusy: [Int] = []
        for shape in shapes.indices {
            let matches = shapes[shape].matches(request.constraints)
            shapes[shape].slots.withUnsafeBufferPointer { slots in
                for slot in slots {
                    let s = Int(slot)
                    guard ready[s] else {
                        reason.notReady += 1
                        continue
                    }
                    guard matches else {
                        reason.constraintMismatch += 1
                        continue
                    }
                    let free = capacity[s] - reserved[s]
                    if feasibility != nil, r.fits(in: free), !r.fits(in: available(s, horizon: h)) {
                        forecastBusy.append(s)
                        continue
                    }
                    if r.cpuMillis > free.cpuMillis { short.cpu += 1 }
                    if r.memory > free.memory { short.memory += 1 }
                    if r.ioRead > free.ioRead { short.ioRead += 1 }
                    if r.ioWrite > free.ioWrite { short.ioWrite += 1 }
                    if r.pids > free.pids { short.pids += 1 }
                }
            }
        }
        for (kind, count) in [
            (ResourceKind.cpu, short.cpu), (.memory, short.memory), (.ioRead, short.ioRead),
            (.ioWrite, short.ioWrite), (.pids, short.pids),
        ] where count > 0 {
            reason.short[kind] = count
        }
        reason.forecastBusy = forecastBusy.count
        if let busiest = busiest(horizon: h, among: forecastBusy) {
            reason.busiest = "\(busiest.node) forecast \(Int((busiest.bound * 100).rounded()))% \(busiest.resource)"
        }
        return reason
    }
}

/// A compiled placement request (see `ClusterView.request`).
public struct PlacementRequest: Sendable, Equatable {
    public var resources: ResourceVector
    public var constraints: [String: String]
    /// Index of the forecast horizon whose load scores it.
    public var horizon: Int
    /// Shapes that can take it, as of when there were `shapeCount` shapes.
    var shapes: [Int32]
    var shapeCount: Int
}

/// A shape to search, with the lowest cost any of its nodes could have for the request.
struct ShapeBound {
    var bound: UInt64
    var offset: UInt64
    var shape: Int32
}

/// The node placement chose.
public struct Choice: Sendable, Equatable {
    public var node: String
    public var slot: Int
    /// The node's cost (lower is better), to 2^-30.
    public var cost: Double
}

/// A node as placement sees it.
public struct NodeDescription: Sendable, Equatable {
    public var id: String
    public var capacity: ResourceVector
    public var weight: Double
    public var labels: [String: String]
    public var ready: Bool

    public init(
        id: String, capacity: ResourceVector, weight: Double = 1, labels: [String: String] = [:], ready: Bool = true
    ) {
        self.id = id
        self.capacity = capacity
        self.weight = weight
        self.labels = labels
        self.ready = ready
    }
}

/// A node's placement state, for status pages and tests.
public struct NodeSnapshot: Sendable, Equatable {
    public var id: String
    public var capacity: ResourceVector
    public var reserved: ResourceVector
    public var running: Int
    public var placedSinceReport: Int
    public var weight: Double
    public var ready: Bool
    public var labels: [String: String]
    /// The load over each horizon.
    public var loads: [NodeLoad]
    /// What reclaimable tasks placed here requested (kept apart from `reserved`).
    public var reclaimableReserved: ResourceVector = .zero
    /// The load over the first horizon.
    public var load: NodeLoad { loads.first ?? .idle }

    public var free: ResourceVector { capacity - reserved }
}

/// Why no node could take a task: how many nodes each filter turned away.
public struct Unplaceable: Error, Sendable, Equatable, CustomStringConvertible {
    public var nodes: Int
    public var notReady = 0
    public var constraintMismatch = 0
    /// Among ready nodes that meet the constraints: how many have too little free of each resource.
    public var short: [ResourceKind: Int] = [:]
    /// Nodes whose reservations have room but whose forecast load leaves too little under the ceiling,
    /// and the busiest of them ("node-3 forecast 97% CPU").
    public var forecastBusy = 0
    public var busiest: String?
    /// Counted for a reclaimable task: "short" then means short of forecast-idle room.
    public var reclaimable = false

    public init(nodes: Int) { self.nodes = nodes }

    /// Counts one node short of each resource of `request` that `room` does not hold.
    mutating func countShort(_ request: ResourceVector, in room: ResourceVector) {
        for (kind, short) in [
            (ResourceKind.cpu, request.cpuMillis > room.cpuMillis), (.memory, request.memory > room.memory),
            (.ioRead, request.ioRead > room.ioRead), (.ioWrite, request.ioWrite > room.ioWrite),
            (.pids, request.pids > room.pids),
        ] where short {
            self.short[kind, default: 0] += 1
        }
    }

    public var description: String {
        guard nodes > 0 else { return "no nodes are registered" }
        var parts: [String] = []
        for kind in ResourceKind.allCases { if let n = short[kind] { parts.append("\(kind.rawValue) short on \(n)") } }
        if forecastBusy > 0 {
            parts.append("forecast too busy on \(forecastBusy)" + (busiest.map { " (\($0))" } ?? ""))
        }
        if notReady > 0 { parts.append("\(notReady) not ready") }
        if constraintMismatch > 0 { parts.append("constraints unmet on \(constraintMismatch)") }
        let what = reclaimable ? "has forecast-idle room for the reclaimable task" : "can take the task"
        return "no node \(what) (\(nodes) node\(nodes == 1 ? "" : "s"): \(parts.joined(separator: ", ")))"
    }
}

extension ClusterView {
    /// The reference: the same choice by scoring every node in turn. Tests check `choose` against it and
    /// `corral bench place` times both.
    public mutating func chooseByScan(_ request: PlacementRequest) -> Choice? {
        if keysStale { rekey() }
        let r = request.resources
        var bestKey = UInt64.max
        var bestSlot = Int.max
        let h = min(request.horizon, horizons - 1)
        for s in ids.indices where ready[s] && r.fits(in: available(s, horizon: h)) {
            let shape = shapes[Int(shapeOf[s])]
            guard shape.matches(request.constraints) else { continue }
            let key = (Self.fixed(staticCost(s, horizon: h)) | rank[s]) &+ requestOffset(r, shape)
            if key < bestKey || (key == bestKey && s < bestSlot) {
                bestKey = key
                bestSlot = s
            }
        }
        guard bestSlot != .max else { return nil }
        return Choice(node: ids[bestSlot], slot: bestSlot, cost: Double(bestKey >> 24) / Self.scale)
    }
}
