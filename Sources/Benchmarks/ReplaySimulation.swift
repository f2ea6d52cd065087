import CorralModel
import Forecast
import Foundation
import Placement
import Scheduler

/// One replay of a task stream on the traced background, with the scheduler's placement code and, with
/// reclamation, the agent's relief as `PressureRelief` does it: when a node's demand passes its capacity,
/// its reclaimable tasks yield and the newest are evicted (back to the queue, their work lost) until it no
/// longer does; a node that evicted takes no reclaimable task in that step (the scheduler's cooldown). The
/// agent acts within seconds, so a step's pressure is its demand after the relief.
extension ReplayBenchmark {
    /// A bound that leaves no room for reclaimable work.
    static let noRoom = NodeLoad(cpu: 1, memory: 1, io: 1)

    struct RunningTask {
        var node: Int
        var start: Int
        var end: Int
        var request: ResourceVector
        var arrival: Arrival
        /// Steps of work it was counted for at placement (taken back if it is evicted).
        var counted: Int
    }

    func simulate(
        _ background: [[Double]], _ stream: [[Arrival]], _ scoring: Scoring, interval: Double = 80,
        ceiling: Double = 0.9, reservedBackground: Bool = false
    ) -> Outcome {
        let forecasts = scoring != .requests
        let feasible = scoring == .feasibility || scoring == .reclamation
        let reclaiming = scoring == .reclamation || scoring == .requestsReclamation
        let start = ForecastBenchmark.threadCPU()
        let ids = (0..<nodes).map { "node-\($0 + 1)" }
        let capacity = ResourceVector(cpuMillis: Int64(Self.coresPerNode * 1000), memory: 64 << 30)
        func request(_ arrival: Arrival) -> ResourceVector {
            ResourceVector(cpuMillis: arrival.cores * 1000, memory: 1 << 30)
        }
        let horizons = scoring == .fixedHour ? [3600] : Self.horizons
        var view = ClusterView(
            horizons: horizons.count, feasibility: feasible ? Feasibility(ceiling: ceiling) : nil,
            reclamation: reclaiming ? Feasibility(ceiling: ceiling) : nil)
        for id in ids {
            view.upsert(NodeDescription(id: id, capacity: capacity, labels: [:]))
            // The background as a guaranteed service that reserved its peak (60% of the node).
            if reservedBackground { view.reserve(Self.backgroundReservation, on: id) }
        }
        var configuration = ARIMAForecaster.Configuration(
            sampleSeconds: Self.stepSeconds, conservative: scoring == .upper80)
        configuration.horizonsSeconds = horizons
        if scoring == .dailySeason {
            configuration.seasonPeriod = Int(86400 / Self.stepSeconds)
            configuration.window = 3 * configuration.seasonPeriod
        }
        var forecaster = ARIMAForecaster(configuration: configuration)
        var running: [Int: RunningTask] = [:]
        var ends: [Int: [Int]] = [:]  // step -> ids of the tasks that end then
        var onNode = [[Int]](repeating: [], count: nodes)  // ids running on each node
        var use = [Double](repeating: 0, count: nodes)  // cores the node's tasks use
        var pressure: [Double] = []
        var placed = 0
        var evictions = 0
        var queue: [Arrival] = []
        var waits: [Double] = []
        var taskSteps = 0
        var reclaimableSteps = 0
        var nextID = 0
        func remove(_ id: Int) -> RunningTask? {
            guard let task = running.removeValue(forKey: id) else { return nil }
            onNode[task.node].removeAll { $0 == id }
            use[task.node] -= Self.use
            if task.arrival.reclaimable && reclaiming {
                view.releaseReclaimable(task.request, on: ids[task.node])
            } else {
                view.release(task.request, on: ids[task.node])
            }
            return task
        }
        for step in 0..<steps {
            for id in ends.removeValue(forKey: step) ?? [] { _ = remove(id) }
            var evicted: [Arrival] = []
            for n in 0..<nodes {
                var demand = background[n][step] + use[n] / Self.coresPerNode
                let evictedBefore = evicted.count
                // The agent's relief: the newest reclaimable task goes while demand is over capacity.
                while reclaiming, demand > 1,
                    let newest = onNode[n].filter({ running[$0]?.arrival.reclaimable == true })
                        .max(by: { (running[$0]?.start ?? 0, $0) < (running[$1]?.start ?? 0, $1) }),
                    let task = remove(newest)
                {
                    evictions += 1
                    taskSteps -= task.counted
                    reclaimableSteps -= task.counted
                    evicted.append(task.arrival)
                    demand = background[n][step] + use[n] / Self.coresPerNode
                }
                pressure.append(demand)
                view.report(ids[n], running: onNode[n].count)
                guard forecasts else { continue }
                let time = Double(step) * Self.stepSeconds
                forecaster.observe(node: ids[n], load: NodeLoad(cpu: demand, memory: 0, io: 0), at: time)
                view.setLoads(ids[n], forecaster.forecasts(node: ids[n]))
                guard feasible || reclaiming else { continue }
                // Judged over the near term, as the scheduler does (SchedulerCore.updateForecast).
                let bound = forecaster.nearTermBound(node: ids[n], interval: interval)
                if feasible { view.setUpperBounds(ids[n], [bound]) }
                // A node that just evicted takes no reclaimable task for the scheduler's cooldown (60 s, within
                // this step).
                if reclaiming { view.setReclaimBound(ids[n], evicted.count > evictedBefore ? Self.noRoom : bound) }
            }
            if forecasts {
                for job in forecaster.refitWork(limit: nodes) { forecaster.install(ARIMAForecaster.refit(job)) }
            }
            // Evicted tasks first (placed again at once), then the queue oldest first, then this step's
            // arrivals. What fits nowhere waits.
            var waiting: [Arrival] = []
            for var arrival in evicted + queue + stream[step] {
                let seconds = Double(arrival.duration) * Self.stepSeconds
                let horizon = ARIMAForecaster.horizon(forExpectedDuration: seconds, in: horizons)
                let resources = request(arrival)
                let compiled = view.request(resources, horizon: horizon)
                let result = arrival.reclaimable && reclaiming ? view.placeReclaimable(compiled) : view.place(compiled)
                guard case .success(let choice) = result, let n = ids.firstIndex(of: choice.node) else {
                    waiting.append(arrival)
                    continue
                }
                placed += 1
                if !arrival.placedBefore { waits.append(Double(step - arrival.step) * Self.stepSeconds / 60) }
                arrival.placedBefore = true
                let counted = min(arrival.duration, steps - step)
                taskSteps += counted
                if arrival.reclaimable { reclaimableSteps += counted }
                running[nextID] = RunningTask(
                    node: n, start: step, end: step + arrival.duration, request: resources, arrival: arrival,
                    counted: counted)
                onNode[n].append(nextID)
                use[n] += Self.use
                ends[step + arrival.duration, default: []].append(nextID)
                nextID += 1
            }
            queue = waiting
        }
        let sortedWaits = waits.sorted()
        let sorted = pressure.sorted()
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))] }
        return Outcome(
            scoring: scoring.rawValue,
            p50Pressure: at(0.5), p95Pressure: at(0.95), p99Pressure: at(0.99),
            overloadedFraction: Double(pressure.filter { $0 > 1 }.count) / Double(pressure.count), placed: placed,
            unplaced: queue.count, cpuSeconds: ForecastBenchmark.threadCPU() - start,
            taskHours: Double(taskSteps) * Self.stepSeconds / 3600,
            meanWaitMinutes: waits.isEmpty ? 0 : waits.reduce(0, +) / Double(waits.count),
            p95WaitMinutes: sortedWaits.isEmpty
                ? 0 : sortedWaits[min(sortedWaits.count - 1, Int(0.95 * Double(sortedWaits.count - 1)))],
            interval: feasible || reclaiming ? interval : nil, ceiling: feasible || reclaiming ? ceiling : nil,
            evictions: evictions, reclaimableHours: Double(reclaimableSteps) * Self.stepSeconds / 3600)
    }
}
