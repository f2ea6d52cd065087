import CorralModel
import Forecast
import Foundation
import Placement
import Scheduler

/// `corral bench anomaly`: the load-anomaly alert's detector measured on the replay's recorded CPU traces
/// (Alibaba 2018, Google 2019, Azure v2; a week of 5-minute samples, scaled to 10-60% of a node) with
/// anomalies injected at seeded places: level shifts up (a runaway neighbour) and drops (work gone).
/// The detector is the scheduler's own (`ARIMAForecaster` with its periodic model selection, judging
/// each sample against the one-step 95% interval); beside it, in the same run, a rolling z-score over
/// the last hour with the same rule of N samples in a row. An injected anomaly counts as found when a
/// run of flags begins within it (or within N samples after its start); a run that begins elsewhere is
/// a false alarm.
public struct AnomalyBenchmark: Sendable {
    public var traces: String
    public var seeds: Int
    /// Anomalies injected per trace and seed, and how many samples each lasts.
    public var anomalies: Int
    public var length: Int
    /// The consecutive-sample rules compared.
    public var runs: [Int]

    /// The first two days are history only: nothing is injected before the models had time.
    static let warmup = 576

    public init(traces: String, seeds: Int = 3, anomalies: Int = 8, length: Int = 6, runs: [Int] = [1, 2, 3, 5]) {
        self.traces = traces
        self.seeds = seeds
        self.anomalies = anomalies
        self.length = length
        self.runs = runs
    }

    public struct Score: Sendable, Encodable {
        public var detector: String
        public var samples: Int
        public var precision: Double
        public var recall: Double
        public var falseAlarms: Int
        /// Mean samples from an anomaly's start to its first flag (found ones only).
        public var meanDelay: Double
    }

    public struct Report: Sendable, Encodable {
        public var traces: [String]
        public var injected: Int
        public var samplesJudged: Int
        public var scores: [Score]
        /// CPU seconds the ARIMA detector spent (model selection and the one-step judgement).
        public var arimaCPUSeconds: Double
    }

    struct Injected {
        var start: Int
        var end: Int
    }

    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        let names = ["alibaba2018", "google2019", "azure2"]
        var tallies: [String: (tp: Int, fp: Int, found: Int, delay: Int)] = [:]
        var injectedTotal = 0
        var judged = 0
        var cpu = 0.0
        for name in names {
            let path = "\(traces)/\(name)-cpu-300s.csv"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw BenchmarkError("\(path) not found: pass --traces DIR")
            }
            let raw = try CSVSeries.parse(text).filter { !$0.isNaN }
            let (low, high) = (raw.min() ?? 0, raw.max() ?? 1)
            let clean = raw.map { 0.1 + 0.5 * ($0 - low) / max(high - low, 1e-12) }
            for seed in 0..<seeds {
                var random = SplitMix64(seed: UInt64(2026 + seed) &* 0x9E37 &+ UInt64(name.count))
                let (series, injected) = inject(clean, random: &random)
                injectedTotal += injected.count
                judged += series.count - Self.warmup
                progress("\(name) seed \(seed): \(injected.count) anomalies")
                let started = ForecastBenchmark.threadCPU()
                let arima = arimaFlags(series)
                cpu += ForecastBenchmark.threadCPU() - started
                let zscore = zScoreFlags(series)
                for n in runs {
                    for (detector, outside) in [("arima-95", arima), ("zscore-1h", zscore)] {
                        let (tp, fp, found, delay) = score(outside, injected, n: n)
                        let key = "\(detector)/\(n)"
                        let old = tallies[key] ?? (0, 0, 0, 0)
                        tallies[key] = (old.tp + tp, old.fp + fp, old.found + found, old.delay + delay)
                    }
                }
            }
        }
        var scores: [Score] = []
        for detector in ["arima-95", "zscore-1h"] {
            for n in runs {
                let t = tallies["\(detector)/\(n)"] ?? (0, 0, 0, 0)
                scores.append(
                    Score(
                        detector: detector, samples: n,
                        precision: t.tp + t.fp == 0 ? 0 : Double(t.tp) / Double(t.tp + t.fp),
                        recall: injectedTotal == 0 ? 0 : Double(t.found) / Double(injectedTotal), falseAlarms: t.fp,
                        meanDelay: t.found == 0 ? 0 : Double(t.delay) / Double(t.found)))
            }
        }
        return Report(
            traces: names, injected: injectedTotal, samplesJudged: judged, scores: scores, arimaCPUSeconds: cpu)
    }

    /// The series with `anomalies` non-overlapping anomalies after the warm-up, one in each equal slot of
    /// what follows it: two thirds shift up by 0.2-0.35, one third drop to 10-40% of the level.
    func inject(_ clean: [Double], random: inout SplitMix64) -> ([Double], [Injected]) {
        var series = clean
        var injected: [Injected] = []
        let span = series.count - Self.warmup - length
        let slot = span / max(anomalies, 1)
        for i in 0..<anomalies where slot > length + 24 {
            let start = Self.warmup + i * slot + 12 + random.next(below: slot - length - 24)
            let up = random.next(below: 3) < 2
            let size = 0.2 + 0.15 * random.nextDouble()
            let keep = 0.1 + 0.3 * random.nextDouble()
            for t in start..<(start + length) {
                series[t] = up ? min(1, series[t] + size) : series[t] * keep
            }
            injected.append(Injected(start: start, end: start + length))
        }
        return (series, injected)
    }

    /// Consecutive samples outside the interval at each sample, as the scheduler's forecaster judges them
    /// (one node, 5-minute samples, models selected on its schedule).
    func arimaFlags(_ series: [Double]) -> [Int] {
        var configuration = ARIMAForecaster.Configuration(sampleSeconds: 300)
        configuration.horizonsSeconds = [300]
        var forecaster = ARIMAForecaster(configuration: configuration)
        var outside = Array(repeating: 0, count: series.count)
        for (t, value) in series.enumerated() {
            // The sample at t is appended (and judged) when the report of t + 1 arrives.
            forecaster.observe(node: "n", load: NodeLoad(cpu: value, memory: 0.3, io: 0.02), at: Double(t) * 300)
            for job in forecaster.refitWork(limit: 1) { forecaster.install(ARIMAForecaster.refit(job)) }
            if t > 0, let judge = forecaster.anomalies(node: "n").first { outside[t - 1] = judge.outside }
        }
        return outside
    }

    /// Consecutive samples more than 1.96 standard deviations from the mean of the hour before.
    func zScoreFlags(_ series: [Double]) -> [Int] {
        var outside = Array(repeating: 0, count: series.count)
        var run = 0
        for t in 12..<series.count {
            let window = series[(t - 12)..<t]
            let mean = window.reduce(0, +) / 12
            let sd = (window.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 11).squareRoot()
            run = abs(series[t] - mean) > 1.96 * max(sd, 0.02) ? run + 1 : 0
            outside[t] = run
        }
        return outside
    }

    /// True and false alarm runs, anomalies found, and the summed delay to each first flag.
    func score(_ outside: [Int], _ injected: [Injected], n: Int) -> (Int, Int, Int, Int) {
        var tp = 0
        var fp = 0
        var found = Set<Int>()
        var delay = 0
        for t in Self.warmup..<outside.count where outside[t] == n {
            // A run reaches N at t: it began at t - n + 1.
            let begun = t - n + 1
            if let index = injected.firstIndex(where: { begun >= $0.start - n && begun < $0.end }) {
                tp += 1
                if found.insert(index).inserted { delay += t - injected[index].start }
            } else {
                fp += 1
            }
        }
        return (tp, fp, found.count, delay)
    }
}
