import CorralModel
import Forecast
import Foundation
import Placement
import Scheduler

/// `corral bench replay`: recorded data-centre CPU traces (Alibaba 2018, Google 2019, Azure v2; 5-minute
/// steps, a week) replayed as the background load of a simulated cluster, with the same seeded stream
/// of tasks placed by the scheduler's placement code five ways: on requests alone (the load term sees
/// no forecast); on the ARIMA forecast of each node's load over a fixed hour; over each task's own
/// expected duration (horizons of 30 min, 1 h and 3 h, as the scheduler does); on its 80% upper
/// bound; and on the forecast of a model with the daily season (STL + ARIMA over three days of
/// samples); and with forecast-aware feasibility (a node takes a task only while its forecast's upper
/// bound plus the request stays under a ceiling), at the default setting and, with `sweep`, over
/// intervals and ceilings. A task no node can take waits in a queue and is tried again each step.
/// Reports each node's CPU pressure (demand over capacity, above 1 when tasks and background want more
/// than the node has) at every step, the task-hours run, and the queue waits; all of it again for a
/// stream where some jobs request twice what they use (as the reports' right-sizing data shows real
/// ones do); and with reclaimable batch tasks added, placed by reclamation and evicted as the agent does
/// (`ReplaySimulation.swift`), on that stream and on nodes whose background reserved its peak.
public struct ReplayBenchmark: Sendable {
    public var traces: String
    public var nodes: Int
    public var steps: Int
    /// Mean task arrivals per 5-minute step.
    public var arrivals: Double
    public var seed: UInt64
    /// Also replay every (interval, ceiling) of the feasibility sweep.
    public var sweep: Bool
    /// The share of tasks in the over-stated stream that request two cores and use 0.9 of one.
    public var overstatedShare = 0.4
    /// Mean arrivals per step of reclaimable batch tasks added to the over-stated stream (the batch stream).
    public var batchArrivals = 0.7

    static let stepSeconds = 300.0
    static let coresPerNode = 8.0
    /// A task asks for one core and uses 0.9 of it.
    static let use = 0.9
    /// The forecast horizons placement knows; a task is scored by the first covering its duration.
    static let horizons: [Double] = [1800, 3600, 10800]

    public init(
        traces: String, nodes: Int = 6, steps: Int = 2016, arrivals: Double = 1.4, seed: UInt64 = 2026,
        sweep: Bool = false
    ) {
        self.sweep = sweep
        self.traces = traces
        self.nodes = nodes
        self.steps = steps
        self.arrivals = arrivals
        self.seed = seed
    }

    public struct Outcome: Sendable, Encodable {
        public var scoring: String
        public var p50Pressure: Double
        public var p95Pressure: Double
        public var p99Pressure: Double
        /// Node-steps where demand exceeded capacity.
        public var overloadedFraction: Double
        public var placed: Int
        /// Tasks still waiting in the queue when the replay ends.
        public var unplaced: Int
        /// Forecasting and placement CPU of the replay.
        public var cpuSeconds: Double
        /// Hours of task work run within the replay (tasks still running at its end count what they ran).
        public var taskHours: Double
        /// Queue waits of the placed tasks, minutes.
        public var meanWaitMinutes: Double
        public var p95WaitMinutes: Double
        /// Feasibility's interval (percent) and ceiling, when it checks forecasts.
        public var interval: Double?
        public var ceiling: Double?
        /// Reclaimable tasks the agents evicted (guaranteed ones never are), and the task-hours of
        /// reclaimable tasks that ran to their end or the replay's.
        public var evictions = 0
        public var reclaimableHours = 0.0
    }

    public struct Report: Sendable, Encodable {
        public var nodes: Int
        public var steps: Int
        public var tasks: Int
        public var traces: [String]
        public var requestsOnly: Outcome
        /// Every task scored by the forecast over the next hour, whatever its duration.
        public var fixedHour: Outcome
        /// Each task scored by the forecast over its own expected duration.
        public var forecast: Outcome
        public var conservative: Outcome
        public var dailySeason: Outcome
        /// p95 pressure with forecast scoring over p95 on requests alone (below 1: forecasts help).
        public var p95RatioFixedHour: Double
        public var p95RatioForecast: Double
        public var p95RatioConservative: Double
        public var p95RatioDailySeason: Double
        /// Forecast-aware feasibility at the default setting (80% interval, ceiling 0.9).
        public var feasibility: Outcome
        /// The stream where some jobs request twice what they use: requests alone, forecast scoring,
        /// forecast feasibility.
        public var overstated: [Outcome]
        /// Every (interval, ceiling) of the sweep, on the honest stream (empty without `sweep`).
        public var sweep: [Outcome]
        /// The over-stated stream with a backlog of reclaimable batch tasks: requests alone, forecast
        /// scoring, feasibility, feasibility + reclamation, requests + reclamation.
        public var batch: [Outcome]
        /// Requests + reclamation over each (interval, ceiling) of the sweep, on the honest stream with batch
        /// tasks and the background reserved (empty without `sweep`).
        public var batchSweep: [Outcome]
        /// The honest stream plus the batch tasks on nodes whose background is a guaranteed service that
        /// reserved its peak: requests alone, feasibility, feasibility + reclamation, requests + reclamation.
        public var reservedBackground: [Outcome]
        /// Task-hours with feasibility + reclamation, and with requests + reclamation, over requests alone
        /// on the batch stream.
        public var reclamationTaskHoursRatio: Double
        public var requestsReclamationTaskHoursRatio: Double
    }

    /// What the load term of placement sees.
    enum Scoring: String {
        case requests
        case fixedHour = "forecast-mean-1h"
        case forecast = "forecast-mean"
        case upper80 = "forecast-upper80"
        case dailySeason = "forecast-daily-season"
        case feasibility = "forecast-feasibility"
        /// Feasibility for guaranteed tasks, reclamation for reclaimable ones.
        case reclamation = "feasibility+reclamation"
        /// Requests alone for guaranteed tasks, reclamation for reclaimable ones.
        case requestsReclamation = "requests+reclamation"
    }

    struct Arrival {
        var step: Int
        var duration: Int
        /// Cores requested (the task uses `use` of one core whatever it asks).
        var cores: Int64 = 1
        /// A batch job's task that tolerates eviction.
        var reclaimable = false
        /// Placed once already (evicted since): its queue wait was counted then.
        var placedBefore = false
    }

    /// With a reserved background: what it reserves on each node, its peak share (0.6 of 8 cores).
    static let backgroundReservation = ResourceVector(cpuMillis: 4800, memory: 8 << 30)

    static let sweepIntervals: [Double] = [50, 80, 95]
    static let sweepCeilings: [Double] = [0.8, 0.85, 0.9, 0.925, 0.95, 1.0]

    /// Each node's background CPU share at every step: trace `n % 3`, the second three nodes half a day
    /// later, scaled to 10-60% of the node.
    func backgrounds() throws -> (names: [String], load: [[Double]]) {
        let names = ["alibaba2018", "google2019", "azure2"]
        let series = try names.map { name -> [Double] in
            let path = "\(traces)/\(name)-cpu-300s.csv"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw BenchmarkError("\(path) not found: pass --traces DIR")
            }
            let values = try CSVSeries.parse(text).filter { !$0.isNaN }
            let (low, high) = (values.min() ?? 0, values.max() ?? 1)
            return values.map { 0.1 + 0.5 * ($0 - low) / max(high - low, 1e-12) }
        }
        let load = (0..<nodes).map { n in
            let trace = series[n % series.count]
            let offset = (n / series.count) * 144
            return (0..<steps).map { trace[($0 + offset) % trace.count] }
        }
        return (names, load)
    }

    func taskStream() -> [[Arrival]] {
        var random = SplitMix64(seed: seed)
        return (0..<steps).map { step in
            let count = Self.poisson(mean: arrivals, &random)
            return (0..<count).map { _ in Arrival(step: step, duration: 6 + random.next(below: 31)) }
        }
    }

    /// A Poisson count of the given mean, by inversion (at most 50).
    static func poisson(mean: Double, _ random: inout SplitMix64) -> Int {
        var count = 0
        var p = exp(-mean)
        var cumulative = p
        let u = random.nextDouble()
        while u > cumulative, count < 50 {
            count += 1
            p *= mean / Double(count)
            cumulative += p
        }
        return count
    }

    /// The same stream with `overstatedShare` of the tasks requesting two cores (their use unchanged).
    func overstated(_ stream: [[Arrival]]) -> [[Arrival]] {
        var random = SplitMix64(seed: seed ^ 0x5eed)
        return stream.map { step in
            step.map { arrival in
                var arrival = arrival
                if random.nextDouble() < overstatedShare { arrival.cores = 2 }
                return arrival
            }
        }
    }

    /// The over-stated stream with reclaimable batch tasks added (Poisson, `batchArrivals` a step, one core,
    /// 0.5-3 h).
    func batchStream(_ overstated: [[Arrival]]) -> [[Arrival]] {
        var random = SplitMix64(seed: seed ^ 0xba7c4)
        return overstated.enumerated().map { step, arrivals in
            let count = Self.poisson(mean: batchArrivals, &random)
            return arrivals
                + (0..<count).map { _ in
                    Arrival(step: step, duration: 6 + random.next(below: 31), reclaimable: true)
                }
        }
    }

    public func run(progress: (String) -> Void) throws -> Report {
        let (names, background) = try backgrounds()
        let stream = taskStream()
        progress("replaying \(steps) steps on \(nodes) nodes: requests alone")
        let plain = simulate(background, stream, .requests)
        progress("the same with ARIMA forecasts over the next hour")
        let hour = simulate(background, stream, .fixedHour)
        progress("the same with ARIMA forecasts over each task's duration")
        let forecast = simulate(background, stream, .forecast)
        progress("the same with the forecasts' 80% upper bound")
        let conservative = simulate(background, stream, .upper80)
        progress("the same with the daily season (STL + ARIMA, three days of samples)")
        let daily = simulate(background, stream, .dailySeason)
        progress("the same with forecast-aware feasibility (80% bound, ceiling 0.9)")
        let feasible = simulate(background, stream, .feasibility)
        progress("a stream where \(Int(overstatedShare * 100))% of tasks request two cores: three ways")
        let over = overstated(stream)
        let overstatedOutcomes = [
            simulate(background, over, .requests), simulate(background, over, .forecast),
            simulate(background, over, .feasibility),
        ]
        progress("the over-stated stream with reclaimable batch tasks (\(batchArrivals) a step): five ways")
        let batch = batchStream(over)
        let batchOutcomes = [
            simulate(background, batch, .requests), simulate(background, batch, .forecast),
            simulate(background, batch, .feasibility), simulate(background, batch, .reclamation),
            simulate(background, batch, .requestsReclamation),
        ]
        progress("the honest stream plus batch tasks, the background reserved at its peak: four ways")
        let honestBatch = batchStream(stream)
        let reserved = [Scoring.requests, .feasibility, .reclamation, .requestsReclamation].map {
            simulate(background, honestBatch, $0, reservedBackground: true)
        }
        var sweepOutcomes: [Outcome] = []
        var batchSweep: [Outcome] = []
        if sweep {
            for interval in Self.sweepIntervals {
                for ceiling in Self.sweepCeilings {
                    progress("sweep: feasibility on the \(Int(interval))% bound, ceiling \(ceiling)")
                    sweepOutcomes.append(
                        simulate(background, stream, .feasibility, interval: interval, ceiling: ceiling))
                    batchSweep.append(
                        simulate(
                            background, honestBatch, .requestsReclamation, interval: interval, ceiling: ceiling,
                            reservedBackground: true))
                }
            }
        }
        return Report(
            nodes: nodes, steps: steps, tasks: stream.map(\.count).reduce(0, +), traces: names, requestsOnly: plain,
            fixedHour: hour, forecast: forecast, conservative: conservative, dailySeason: daily,
            p95RatioFixedHour: hour.p95Pressure / plain.p95Pressure,
            p95RatioForecast: forecast.p95Pressure / plain.p95Pressure,
            p95RatioConservative: conservative.p95Pressure / plain.p95Pressure,
            p95RatioDailySeason: daily.p95Pressure / plain.p95Pressure, feasibility: feasible,
            overstated: overstatedOutcomes, sweep: sweepOutcomes, batch: batchOutcomes, batchSweep: batchSweep,
            reservedBackground: reserved,
            reclamationTaskHoursRatio: batchOutcomes[3].taskHours / batchOutcomes[0].taskHours,
            requestsReclamationTaskHoursRatio: batchOutcomes[4].taskHours / batchOutcomes[0].taskHours)
    }
}
