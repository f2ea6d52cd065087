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
/// samples). Reports each
/// node's CPU pressure (demand over capacity, above 1 when tasks and background want more than the
/// node has) at every step.
public struct ReplayBenchmark: Sendable {
    public var traces: String
    public var nodes: Int
    public var steps: Int
    /// Mean task arrivals per 5-minute step.
    public var arrivals: Double
    public var seed: UInt64

    static let stepSeconds = 300.0
    static let coresPerNode = 8.0
    /// A task asks for one core and uses 0.9 of it.
    static let use = 0.9
    /// The forecast horizons placement knows; a task is scored by the first covering its duration.
    static let horizons: [Double] = [1800, 3600, 10800]

    public init(traces: String, nodes: Int = 6, steps: Int = 2016, arrivals: Double = 1.4, seed: UInt64 = 2026) {
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
        public var unplaced: Int
        public var cpuSeconds: Double
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
    }

    /// What the load term of placement sees.
    enum Scoring: String {
        case requests
        case fixedHour = "forecast-mean-1h"
        case forecast = "forecast-mean"
        case upper80 = "forecast-upper80"
        case dailySeason = "forecast-daily-season"
    }

    struct Arrival {
        var step: Int
        var duration: Int
    }

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
            // Poisson arrivals by inversion.
            var count = 0
            var p = exp(-arrivals)
            var cumulative = p
            let u = random.nextDouble()
            while u > cumulative, count < 50 {
                count += 1
                p *= arrivals / Double(count)
                cumulative += p
            }
            return (0..<count).map { _ in Arrival(step: step, duration: 6 + random.next(below: 31)) }
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
        return Report(
            nodes: nodes, steps: steps, tasks: stream.map(\.count).reduce(0, +), traces: names, requestsOnly: plain,
            fixedHour: hour, forecast: forecast, conservative: conservative, dailySeason: daily,
            p95RatioFixedHour: hour.p95Pressure / plain.p95Pressure,
            p95RatioForecast: forecast.p95Pressure / plain.p95Pressure,
            p95RatioConservative: conservative.p95Pressure / plain.p95Pressure,
            p95RatioDailySeason: daily.p95Pressure / plain.p95Pressure)
    }

    /// One replay with the given scoring.
    func simulate(_ background: [[Double]], _ stream: [[Arrival]], _ scoring: Scoring) -> Outcome {
        let forecasts = scoring != .requests
        let start = ForecastBenchmark.threadCPU()
        let ids = (0..<nodes).map { "node-\($0 + 1)" }
        let capacity = ResourceVector(cpuMillis: Int64(Self.coresPerNode * 1000), memory: 64 << 30)
        let task = ResourceVector(cpuMillis: 1000, memory: 1 << 30)
        let horizons = scoring == .fixedHour ? [3600] : Self.horizons
        var view = ClusterView(horizons: horizons.count)
        for id in ids { view.upsert(NodeDescription(id: id, capacity: capacity, labels: [:])) }
        var configuration = ARIMAForecaster.Configuration(
            sampleSeconds: Self.stepSeconds, conservative: scoring == .upper80)
        configuration.horizonsSeconds = horizons
        if scoring == .dailySeason {
            configuration.seasonPeriod = Int(86400 / Self.stepSeconds)
            configuration.window = 3 * configuration.seasonPeriod
        }
        var forecaster = ARIMAForecaster(configuration: configuration)
        var ends: [Int: [Int]] = [:]  // step -> nodes whose task ends then
        var running = [Int](repeating: 0, count: nodes)
        var pressure: [Double] = []
        var (placed, unplaced) = (0, 0)
        for step in 0..<steps {
            for n in ends.removeValue(forKey: step) ?? [] {
                running[n] -= 1
                view.release(task, on: ids[n])
            }
            for n in 0..<nodes {
                let demand = background[n][step] + Double(running[n]) * Self.use / Self.coresPerNode
                pressure.append(demand)
                view.report(ids[n], running: running[n])
                guard forecasts else { continue }
                let time = Double(step) * Self.stepSeconds
                forecaster.observe(node: ids[n], load: NodeLoad(cpu: demand, memory: 0, io: 0), at: time)
                view.setLoads(ids[n], forecaster.forecasts(node: ids[n]))
            }
            if forecasts {
                for job in forecaster.refitWork(limit: nodes) { forecaster.install(ARIMAForecaster.refit(job)) }
            }
            for arrival in stream[step] {
                let seconds = Double(arrival.duration) * Self.stepSeconds
                let horizon = ARIMAForecaster.horizon(forExpectedDuration: seconds, in: horizons)
                guard case .success(let choice) = view.place(view.request(task, horizon: horizon)),
                    let n = ids.firstIndex(of: choice.node)
                else {
                    unplaced += 1
                    continue
                }
                placed += 1
                running[n] += 1
                ends[step + arrival.duration, default: []].append(n)
            }
        }
        let sorted = pressure.sorted()
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))] }
        return Outcome(
            scoring: scoring.rawValue,
            p50Pressure: at(0.5), p95Pressure: at(0.95), p99Pressure: at(0.99),
            overloadedFraction: Double(pressure.filter { $0 > 1 }.count) / Double(pressure.count), placed: placed,
            unplaced: unplaced, cpuSeconds: ForecastBenchmark.threadCPU() - start)
    }
}
