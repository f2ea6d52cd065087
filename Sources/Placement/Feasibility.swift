import CorralModel

/// Forecast-aware feasibility: a node may take a task only if the upper bound of its forecast load over
/// the task's horizon, plus the tasks placed there since its last report, plus the task's request stays
/// at or under `ceiling` of its capacity, for CPU and for memory. Without it (nil), a node is feasible
/// when its free reservations fit the request.
public struct Feasibility: Sendable, Equatable, Codable {
    /// The share of capacity forecast use plus requests may reach, 0 < ceiling <= 1.
    public var ceiling: Double

    public init(ceiling: Double = 0.9) { self.ceiling = ceiling }

    /// How much of a resource of `capacity` a node may still be given when its forecast bound is `upper`
    /// (a fraction of capacity): `ceiling * capacity - upper * capacity`, in the resource's unit; the
    /// capacity itself for an unmetered resource.
    func headroom(_ capacity: Int64, upper: Double) -> Int64 {
        guard capacity > 0, capacity < ResourceVector.unmetered, upper.isFinite else { return capacity }
        let room = (ceiling - max(upper, 0)) * Double(capacity)
        return Int64(max(min(room, Double(capacity)), -1).rounded(.down))
    }
}

extension ClusterView {
    /// The node's forecast load's upper bound over each horizon (the last stands for any beyond), which
    /// `feasibility` checks placements against.
    public mutating func setUpperBounds(_ id: String, _ bounds: [NodeLoad]) {
        guard let slot = slotOfID[id].map(Int.init), let last = bounds.last else { return }
        for h in 0..<horizons { upper[slot * horizons + h] = h < bounds.count ? bounds[h] : last }
        refresh(slot: slot)
    }

    /// What node `s` can still be given for a task scored over horizon `h`: its free reservations, and
    /// with `feasibility` no more than its forecast headroom less what was placed there since its report.
    func available(_ s: Int, horizon h: Int) -> ResourceVector {
        var free = capacity[s] - reserved[s]
        guard let feasibility else { return free }
        let bound = upper[s * horizons + h]
        let lag = placedResources[s]
        // Reclaimable tasks' use is in the forecast, but they make way (the agent evicts them under
        // pressure): their requests count as room for guaranteed work.
        let yields = reclaimableReserved[s]
        free.cpuMillis = min(
            free.cpuMillis,
            feasibility.headroom(capacity[s].cpuMillis, upper: bound.cpu) - lag.cpuMillis + yields.cpuMillis)
        free.memory = min(
            free.memory, feasibility.headroom(capacity[s].memory, upper: bound.memory) - lag.memory + yields.memory)
        return free
    }

    /// The node whose forecast leaves the least CPU or memory headroom for horizon `h`, with the resource
    /// and its bound: what a task that fits nowhere is told it waits for.
    func busiest(horizon h: Int, among slots: [Int]) -> (node: String, resource: String, bound: Double)? {
        var best: (node: String, resource: String, bound: Double)?
        for s in slots {
            let bound = upper[s * horizons + h]
            for (name, value) in [("CPU", bound.cpu), ("memory", bound.memory)]
            where value > (best?.bound ?? -.infinity) {
                best = (ids[s], name, value)
            }
        }
        return best
    }
}
