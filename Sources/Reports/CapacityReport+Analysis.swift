import CorralModel
import CorralProtocol
import Foundation
import Placement
import Store

extension CapacityReport {
    /// The three most common requests among the jobs (ties: the larger first), or 1 core / 1 GiB.
    static func commonShapes(_ jobs: [ClusterSnapshot.Job]) -> [CapacityReportOptions.Shape] {
        var counts: [CapacityReportOptions.Shape: Int] = [:]
        for job in jobs { counts[.init(cpu: job.cpu, memory: Double(job.memory)), default: 0] += job.tasks }
        let common = counts.sorted { ($0.value, $0.key.cpu, $0.key.memory) > ($1.value, $1.key.cpu, $1.key.memory) }
        return common.isEmpty ? [.init(cpu: 1, memory: Double(1 << 30))] : common.prefix(3).map(\.key)
    }

    /// Free cores and bytes of a ready node by requests; at the forecast peak, by the larger of requests
    /// and forecast use.
    static func free(_ node: NodeStatus, _ scope: Scope, atPeak: Bool) -> (cpu: Double, memory: Double) {
        let cpu = Double(node.capacity.cpuMillis) / 1000
        let memory = Double(node.capacity.memory)
        var heldCPU = Double(node.reserved.cpuMillis) / 1000
        var heldMemory = Double(node.reserved.memory)
        if atPeak {
            let resources = scope.resources
            heldCPU = max(heldCPU, (resources[0].forecast?.peak ?? resources[0].used?.max ?? 0) * cpu)
            heldMemory = max(heldMemory, (resources[1].forecast?.peak ?? resources[1].used?.max ?? 0) * memory)
        }
        return (max(0, cpu - heldCPU), max(0, memory - heldMemory))
    }

    static func headroom(_ shape: CapacityReportOptions.Shape, snapshot: ClusterSnapshot, nodes: [Scope]) -> Headroom {
        func fit(_ free: (cpu: Double, memory: Double)) -> Int {
            let byCPU = shape.cpu > 0 ? (free.cpu / shape.cpu + 1e-9).rounded(.down) : .infinity
            let byMemory = shape.memory > 0 ? (free.memory / shape.memory + 1e-9).rounded(.down) : .infinity
            let n = min(byCPU, byMemory)
            return n.isFinite ? Int(n) : 0
        }
        let fits = zip(snapshot.nodes, nodes).filter { $0.0.ready }.map { node, scope in
            NodeFit(
                node: node.id.rawValue, fitNow: fit(free(node, scope, atPeak: false)),
                fitAtPeak: fit(free(node, scope, atPeak: true)))
        }
        return Headroom(
            cpu: shape.cpu, memory: shape.memory, fitNow: fits.map(\.fitNow).reduce(0, +),
            fitAtPeak: fits.map(\.fitAtPeak).reduce(0, +), nodes: fits)
    }

    /// Reserved-but-idle capacity (mean reservation above mean use over the history) and capacity
    /// one resource strands: free cores where `smallest`'s memory no longer fits, and the reverse.
    static func stranded(snapshot: ClusterSnapshot, nodes: [Scope], smallest: CapacityReportOptions.Shape?)
        -> Stranded
    {
        let rows = zip(snapshot.nodes, nodes).filter { $0.0.ready }.map { node, scope in
            func idle(_ r: Resource, _ capacity: Double) -> Double {
                max(0, ((r.reserved?.mean ?? 0) - (r.used?.mean ?? 0)) * capacity)
            }
            let free = free(node, scope, atPeak: false)
            let shape = smallest ?? .init(cpu: 0.1, memory: Double(64 << 20))
            let cpuOnly = free.memory < shape.memory && free.cpu >= shape.cpu
            let memoryOnly = free.cpu < shape.cpu && free.memory >= shape.memory
            return NodeStranded(
                node: node.id.rawValue, reservedIdleCPU: idle(scope.resources[0], scope.cpuCapacity),
                reservedIdleMemory: idle(scope.resources[1], scope.memoryCapacity),
                cpuWithoutMemory: cpuOnly ? free.cpu : 0, memoryWithoutCPU: memoryOnly ? free.memory : 0,
                reclaimableCPU: reclaimable(scope.resources[0], node.reserved.cpuMillis, node.capacity.cpuMillis)
                    .map { $0 * scope.cpuCapacity },
                reclaimableMemory: reclaimable(scope.resources[1], node.reserved.memory, node.capacity.memory)
                    .map { $0 * scope.memoryCapacity })
        }
        func sum(_ values: [Double?]) -> Double? {
            values.contains { $0 != nil } ? values.compactMap { $0 }.reduce(0, +) : nil
        }
        return Stranded(
            reservedIdleCPU: rows.map(\.reservedIdleCPU).reduce(0, +),
            reservedIdleMemory: rows.map(\.reservedIdleMemory).reduce(0, +),
            cpuWithoutMemory: rows.map(\.cpuWithoutMemory).reduce(0, +),
            memoryWithoutCPU: rows.map(\.memoryWithoutCPU).reduce(0, +),
            reclaimableCPU: sum(rows.map(\.reclaimableCPU)),
            reclaimableMemory: sum(rows.map(\.reclaimableMemory)), nodes: rows)
    }

    /// The reclamation ceiling the report judges reclaimable capacity under (the scheduler's default).
    static let reclaimCeiling = 0.9

    /// Forecast idle inside a node's reservation, as a share of its capacity: the reservation now (at
    /// most the ceiling) less the highest 80% upper bound of use the forecast gives over the horizon. What
    /// reclaimable tasks could run on without touching what guaranteed use is forecast to need.
    static func reclaimable(_ resource: Resource, _ reserved: Int64, _ capacity: Int64) -> Double? {
        guard let forecast = resource.forecast, capacity > 0, capacity < ResourceVector.unmetered else { return nil }
        let held = min(Double(reserved) / Double(capacity), reclaimCeiling)
        let peak = forecast.points.map(\.hi80).max() ?? forecast.peak
        return max(0, held - max(peak, 0))
    }

    /// Each job with usage samples: its request against its busiest task's p95 per minute, and a
    /// suggested request when it asks for under half of what it uses at p95 or runs near its limit.
    /// Most over-requested first.
    static func rightSizing(_ jobs: [ClusterSnapshot.Job], history: UsageHistory, since: Double) async throws
        -> [RightSizing]
    {
        let samples = try await history.jobSamples(since: since)
        func p95(_ values: [Double]) -> Double { GridSeries.quantile(values.sorted(), 0.95) }
        let hints = jobs.compactMap { job -> RightSizing? in
            guard let used = samples[job.id], !used.isEmpty else { return nil }
            let (cpu, memory) = (p95(used.map(\.cpu)), p95(used.map(\.memory)))
            let requested = Double(job.memory)
            var hint = RightSizing(
                job: job.id, name: job.name, tenant: job.tenant, requestedCPU: job.cpu, requestedMemory: requested,
                p95CPU: cpu, p95Memory: memory, minutes: used.count)
            if cpu < 0.5 * job.cpu {
                hint.suggestedCPU = max(0.05, (cpu * 1.25 * 20).rounded(.up) / 20)
            } else if cpu > 0.95 * job.cpu {
                hint.suggestedCPU = (job.cpu * 1.5 * 20).rounded(.up) / 20
            }
            let mib = Double(1 << 20)
            if memory < 0.5 * requested {
                hint.suggestedMemory = max(16, (memory * 1.25 / mib).rounded(.up)) * mib
            } else if memory > 0.9 * requested {
                hint.suggestedMemory = (requested * 1.5 / mib).rounded(.up) * mib
            }
            return hint
        }
        func waste(_ h: RightSizing) -> Double {
            max(0, h.requestedCPU - h.p95CPU) + max(0, h.requestedMemory - h.p95Memory) / Double(1 << 30)
        }
        return hints.sorted { (waste($0), $1.job) > (waste($1), $0.job) }
    }

    /// A tenant's quota, use now, peak, forecast and when each quota'd resource runs out.
    static func tenantReport(
        _ tenant: ClusterSnapshot.Tenant, grids: [GridSeries], forecasts: [String: Forecast?], now: Double
    ) -> TenantReport {
        let resources = TenantResource.Kind.allCases.map { kind in
            let grid = grids[kind.index]
            let quota = tenant.quota(kind)
            let current = tenant.current(kind)
            let forecast = forecasts["tenant \(tenant.name) \(kind.rawValue)"] ?? nil
            var exhausted: Double?
            if let quota {
                exhausted = current >= quota ? now : grid.crossing(quota, forecast: forecast, now: now)
            }
            return TenantResource(
                kind: kind, quota: quota, current: current, peak: max(current, grid.observed.max() ?? 0),
                history: grid.values.indices.map { HistoryPoint(time: grid.time($0), used: grid.values[$0].finite) },
                forecast: forecast, exhaustedAt: exhausted)
        }
        return TenantReport(
            tenant: tenant.name, resources: resources, exhaustedAt: resources.compactMap(\.exhaustedAt).min())
    }
}
