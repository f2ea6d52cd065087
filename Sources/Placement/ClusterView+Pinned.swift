import CorralModel

/// Broadcast placement: one task on each of a set of nodes, each task bound to its node.
extension ClusterView {
    /// The nodes that could run `resources` under `constraints` now or once free: ready, matching, and
    /// with the capacity for it, by id.
    public func eligibleNodes(_ resources: ResourceVector, constraints: [String: String]) -> [String] {
        ids.indices.filter { s in
            ready[s] && resources.fits(in: capacity[s]) && shapes[Int(shapeOf[s])].matches(constraints)
        }.map { ids[$0] }.sorted()
    }

    /// Places the request on node `id` only, reserving it there; or why that node cannot take it now.
    public mutating func place(_ request: PlacementRequest, on id: String) -> Result<Choice, Unplaceable> {
        var reason = Unplaceable(nodes: 1)
        guard let slot = slotOfID[id].map(Int.init) else { return .failure(Unplaceable(nodes: 0)) }
        guard ready[slot] else {
            reason.notReady = 1
            return .failure(reason)
        }
        guard shapes[Int(shapeOf[slot])].matches(request.constraints) else {
            reason.constraintMismatch = 1
            return .failure(reason)
        }
        let r = request.resources
        reason.countShort(r, in: capacity[slot] - reserved[slot])
        guard reason.short.isEmpty else { return .failure(reason) }
        commit(r, slot: slot)
        return .success(Choice(node: id, slot: slot, cost: 0))
    }
}
