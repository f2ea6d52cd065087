import CorralModel
import CorralProtocol
import Foundation
import Placement
import Store

extension CapacityReport {
    /// Progress while a report is built: a step's description, and how many of how many are done.
    public typealias Progress = @Sendable (_ step: String, _ done: Int, _ total: Int) -> Void

    /// Reads the usage history behind `snapshot` and works out the report. Forecasts (one auto-ARIMA
    /// per node, resource and tenant quota) run in parallel and report `progress` as they finish.
    public static func build(
        snapshot: ClusterSnapshot, history: UsageHistory, options: CapacityReportOptions, progress: Progress? = nil
    ) async throws -> CapacityReport {
        let since = options.now - options.sinceSeconds
        let start = max(since, try await history.earliest(since: since) ?? options.now)
        let (resolution, step) = options.grid(start: start)
        var nodeSamples: [String: [UsageHistory.Sample]] = [:]
        for node in snapshot.nodes {
            nodeSamples[node.id.rawValue] = try await history.samples(
                node: node.id.rawValue, since: since, resolution: resolution)
        }
        var tenantSamples: [String: [UsageHistory.TenantSample]] = [:]
        for tenant in snapshot.tenants {
            tenantSamples[tenant.name] = try await history.samples(
                tenant: tenant.name, since: since, resolution: resolution)
        }
        let gridStart = (start / step).rounded(.down) * step
        let steps = Int((options.horizonSeconds / step).rounded(.up))
        func grid(_ points: [(time: Double, value: Double)]) -> GridSeries {
            .resample(points, start: gridStart, end: options.now, step: step)
        }

        // Every series to forecast, named for progress, then all forecasts at once.
        var series: [(name: String, grid: GridSeries)] = []
        var nodeGrids: [String: NodeGrids] = [:]
        for node in snapshot.nodes {
            let samples = nodeSamples[node.id.rawValue] ?? []
            let grids = NodeGrids(
                used: [
                    grid(samples.map { ($0.time, $0.cpu) }), grid(samples.map { ($0.time, $0.memory) }),
                    grid(samples.map { ($0.time, $0.io) }),
                ],
                reserved: [
                    grid(samples.map { ($0.time, $0.cpuReserved) }),
                    grid(samples.map { ($0.time, $0.memoryReserved) }),
                ])
            nodeGrids[node.id.rawValue] = grids
        }
        let clusterGrids = NodeGrids.cluster(snapshot.nodes, nodeGrids, start: gridStart, step: step)
        for (id, grids) in [("cluster", clusterGrids)]
            + snapshot.nodes.map({ ($0.id.rawValue, nodeGrids[$0.id.rawValue]!) })
        {
            for kind in Resource.Kind.allCases { series.append(("\(id) \(kind.rawValue)", grids.used[kind.index])) }
        }
        var tenantGrids: [String: [GridSeries]] = [:]
        for tenant in snapshot.tenants {
            let samples = tenantSamples[tenant.name] ?? []
            let grids = [
                grid(samples.map { ($0.time, $0.cpu) }), grid(samples.map { ($0.time, $0.memory) }),
                grid(samples.map { ($0.time, $0.tasks) }),
            ]
            tenantGrids[tenant.name] = grids
            for kind in TenantResource.Kind.allCases where tenant.quota(kind) != nil {
                series.append(("tenant \(tenant.name) \(kind.rawValue)", grids[kind.index]))
            }
        }
        let forecasts = await forecastAll(series, steps: steps, progress: progress)

        func scope(_ id: String, ready: Bool, cpu: Double, memory: Double, _ grids: NodeGrids) -> Scope {
            Scope(
                id: id, ready: ready, cpuCapacity: cpu, memoryCapacity: memory,
                resources: Resource.Kind.allCases.map { kind in
                    let used = grids.used[kind.index]
                    let reserved = kind == .io ? nil : grids.reserved[kind.index]
                    let forecast = forecasts["\(id) \(kind.rawValue)"] ?? nil
                    return Resource(
                        kind: kind,
                        history: used.values.indices.map {
                            HistoryPoint(
                                time: used.time($0), used: used.values[$0].finite, reserved: reserved?.values[$0].finite
                            )
                        },
                        used: used.percentiles, reserved: reserved?.percentiles, forecast: forecast,
                        crosses80At: used.crossing(0.8, forecast: forecast, now: options.now),
                        crosses100At: used.crossing(1, forecast: forecast, now: options.now),
                        crosses100Upper95At: used.crossing(1, forecast: forecast, now: options.now, by: \.hi95))
                })
        }
        let nodes = snapshot.nodes.map {
            scope(
                $0.id.rawValue, ready: $0.ready, cpu: Double($0.capacity.cpuMillis) / 1000,
                memory: Double($0.capacity.memory),
                nodeGrids[$0.id.rawValue]!)
        }
        let cluster = scope(
            "cluster", ready: snapshot.nodes.contains(where: \.ready), cpu: nodes.map(\.cpuCapacity).reduce(0, +),
            memory: nodes.map(\.memoryCapacity).reduce(0, +), clusterGrids)
        let tenants = snapshot.tenants.map { tenant in
            tenantReport(tenant, grids: tenantGrids[tenant.name]!, forecasts: forecasts, now: options.now)
        }
        let shapes = options.shapes.isEmpty ? commonShapes(snapshot.jobs) : options.shapes
        var report = CapacityReport(
            generatedAt: options.now, since: gridStart, horizonSeconds: options.horizonSeconds, stepSeconds: step,
            findings: [], cluster: cluster, nodes: nodes,
            headroom: shapes.map { headroom($0, snapshot: snapshot, nodes: nodes) },
            stranded: stranded(snapshot: snapshot, nodes: nodes, smallest: shapes.min { $0.cpu < $1.cpu }),
            rightSizing: try await rightSizing(snapshot.jobs, history: history, since: since),
            tenants: tenants)
        report.findings = report.makeFindings()
        return report
    }

    /// Runs every forecast in parallel, keyed by name. Identical series (a one-node cluster and its
    /// node) are fitted once.
    static func forecastAll(_ series: [(name: String, grid: GridSeries)], steps: Int, progress: Progress?) async
        -> [String: Forecast?]
    {
        var names: [[UInt64]: [String]] = [:]
        var unique: [(key: [UInt64], grid: GridSeries)] = []
        for (name, grid) in series {
            let key = grid.values.map(\.bitPattern)
            if names[key] == nil { unique.append((key, grid)) }
            names[key, default: []].append(name)
        }
        return await withTaskGroup(of: ([UInt64], Forecast?).self) { group in
            var results: [String: Forecast?] = [:]
            for (key, grid) in unique { group.addTask { (key, grid.forecast(steps: steps)) } }
            var done = 0
            for await (key, forecast) in group {
                for name in names[key] ?? [] { results[name] = forecast }
                done += 1
                progress?("forecast \(names[key]?.first ?? "")", done, unique.count)
            }
            return results
        }
    }
}

/// A node's (or the cluster's) series on the report's grid: used cpu, memory, io; reserved cpu, memory.
struct NodeGrids {
    var used: [GridSeries]
    var reserved: [GridSeries]

    /// Capacity-weighted means over the nodes with a sample in each step.
    static func cluster(_ nodes: [NodeStatus], _ grids: [String: NodeGrids], start: Double, step: Double) -> NodeGrids {
        let count = grids.values.first?.used[0].values.count ?? 1
        func combine(_ pick: (NodeGrids) -> GridSeries, weight: (NodeStatus) -> Double) -> GridSeries {
            var values = [Double](repeating: .nan, count: count)
            for i in 0..<count {
                var (sum, total) = (0.0, 0.0)
                for node in nodes {
                    guard let grid = grids[node.id.rawValue], case let v = pick(grid).values[i], !v.isNaN else {
                        continue
                    }
                    sum += v * weight(node)
                    total += weight(node)
                }
                if total > 0 { values[i] = sum / total }
            }
            return GridSeries(start: start, step: step, values: values)
        }
        let cpu: (NodeStatus) -> Double = { Double($0.capacity.cpuMillis) }
        let memory: (NodeStatus) -> Double = { Double($0.capacity.memory) }
        return NodeGrids(
            used: [
                combine({ $0.used[0] }, weight: cpu), combine({ $0.used[1] }, weight: memory),
                combine({ $0.used[2] }, weight: { _ in 1 }),
            ],
            reserved: [combine({ $0.reserved[0] }, weight: cpu), combine({ $0.reserved[1] }, weight: memory)])
    }
}

extension CapacityReport.Resource.Kind {
    var index: Int { Self.allCases.firstIndex(of: self)! }
}

extension CapacityReport.TenantResource.Kind {
    var index: Int { Self.allCases.firstIndex(of: self)! }
}

extension ClusterSnapshot.Tenant {
    func quota(_ kind: CapacityReport.TenantResource.Kind) -> Double? {
        switch kind {
        case .cpu: quota?.cpu
        case .memory: quota?.memory.map { Double($0) }
        case .tasks: quota?.runningTasks.map { Double($0) }
        }
    }

    func current(_ kind: CapacityReport.TenantResource.Kind) -> Double {
        switch kind {
        case .cpu: usage.cpu
        case .memory: Double(usage.memory)
        case .tasks: Double(usage.runningTasks)
        }
    }
}

extension Double {
    var finite: Double? { isFinite ? self : nil }
}
