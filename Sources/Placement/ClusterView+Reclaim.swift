import CorralModel

/// Reclamation: a reclaimable task may use what the forecast says will stay idle on a node, reserved by
/// other tasks or not, under the reclamation ceiling: `ceiling * capacity - upper bound * capacity -
/// what was placed there since the node's report`, for CPU and memory; I/O and pids by requests. Its
/// request is kept apart from `reserved`, so guaranteed work still sees the node's reservations as
/// before and takes the room back (the agent evicts reclaimable tasks when the node is under pressure).
/// Chosen by a scan of the nodes, with the same cost as any placement.
extension ClusterView {
    /// The node's near-term forecast load's upper bound that reclamation checks against.
    public mutating func setReclaimBound(_ id: String, _ bound: NodeLoad) {
        guard let slot = slotOfID[id].map(Int.init) else { return }
        reclaimUpper[slot] = bound
        reclaimBounded[slot] = true
    }

    /// What node `s` can still give reclaimable tasks; zero without reclamation or a forecast.
    public func reclaimable(slot s: Int) -> ResourceVector {
        guard let reclamation, reclaimBounded[s] else { return .zero }
        let bound = reclaimUpper[s]
        let lag = placedResources[s]
        var room = capacity[s] - reserved[s] - reclaimableReserved[s]
        room.cpuMillis = min(
            capacity[s].cpuMillis - reclaimableReserved[s].cpuMillis,
            reclamation.headroom(capacity[s].cpuMillis, upper: bound.cpu) - lag.cpuMillis)
        room.memory = min(
            capacity[s].memory - reclaimableReserved[s].memory,
            reclamation.headroom(capacity[s].memory, upper: bound.memory) - lag.memory)
        return room
    }

    /// The forecast-idle capacity inside node `id`'s reservations: min(reserved, ceiling * capacity) less
    /// the forecast's upper bound of use, for CPU and memory (what an operator paying for reserved cores
    /// could reclaim); nil for an unknown node or one without a forecast yet.
    public func idleReserved(_ id: String, ceiling: Double) -> ResourceVector? {
        guard let s = slotOfID[id].map(Int.init), reclaimBounded[s] else { return nil }
        let bound = reclaimUpper[s]
        func idle(_ reserved: Int64, _ capacity: Int64, _ use: Double) -> Int64 {
            guard capacity > 0, capacity < ResourceVector.unmetered else { return 0 }
            let cap = min(Double(reserved), ceiling * Double(capacity))
            return Int64(max(0, cap - max(use, 0) * Double(capacity)).rounded(.down))
        }
        return ResourceVector(
            cpuMillis: idle(reserved[s].cpuMillis, capacity[s].cpuMillis, bound.cpu),
            memory: idle(reserved[s].memory, capacity[s].memory, bound.memory))
    }

    /// Places a reclaimable task on the cheapest ready node whose reclaimable room fits it, or says why
    /// none can take it. Without `reclamation` it is placed by requests like any task.
    public mutating func placeReclaimable(_ request: PlacementRequest) -> Result<Choice, Unplaceable> {
        guard reclamation != nil else { return place(request) }
        if keysStale { rekey() }
        let r = request.resources
        let h = min(request.horizon, horizons - 1)
        var best: (key: UInt64, slot: Int)?
        for s in ids.indices where ready[s] && r.fits(in: reclaimable(slot: s)) {
            let shape = shapes[Int(shapeOf[s])]
            guard shape.matches(request.constraints) else { continue }
            let key = (Self.fixed(staticCost(s, horizon: h)) | rank[s]) &+ requestOffset(r, shape)
            if key < best?.key ?? .max { best = (key, s) }
        }
        guard let best else { return .failure(unplaceableReclaimable(request)) }
        commitReclaimable(r, slot: best.slot)
        return .success(Choice(node: ids[best.slot], slot: best.slot, cost: Double(best.key >> 24) / Self.scale))
    }

    /// Counts a reclaimable task on node `id` (one placed, or found running after a restart); without
    /// `reclamation` it holds a reservation like any task, as `placeReclaimable` then placed it.
    public mutating func reserveReclaimable(_ resources: ResourceVector, on id: String) {
        guard reclamation != nil else { return reserve(resources, on: id) }
        guard let slot = slotOfID[id].map(Int.init) else { return }
        reclaimableReserved[slot] = reclaimableReserved[slot] + resources
        refresh(slot: slot)
    }

    /// Returns an ended reclaimable task's request (its reservation, without `reclamation`).
    public mutating func releaseReclaimable(_ resources: ResourceVector, on id: String) {
        guard reclamation != nil else { return release(resources, on: id) }
        guard let slot = slotOfID[id].map(Int.init) else { return }
        reclaimableReserved[slot] = reclaimableReserved[slot] - resources
        refresh(slot: slot)
    }

    mutating func commitReclaimable(_ resources: ResourceVector, slot s: Int) {
        reclaimableReserved[s] = reclaimableReserved[s] + resources
        placedSinceReport[s] += 1
        placedResources[s] = placedResources[s] + resources
        refresh(slot: s)
    }

    /// Why no node has reclaimable room: the ready, matching nodes count as short of what they lack.
    func unplaceableReclaimable(_ request: PlacementRequest) -> Unplaceable {
        var reason = Unplaceable(nodes: ids.count)
        for s in ids.indices {
            guard ready[s] else {
                reason.notReady += 1
                continue
            }
            guard shapes[Int(shapeOf[s])].matches(request.constraints) else {
                reason.constraintMismatch += 1
                continue
            }
            reason.countShort(request.resources, in: reclaimable(slot: s))
        }
        reason.reclaimable = true
        return reason
    }
}
