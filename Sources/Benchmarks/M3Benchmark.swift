import Forecast
import Foundation
import Placement

/// Auto-ARIMA on the M3 monthly panel (Sources/Benchmarks/Datasets/m3: 300 series, 18 held-out
/// points each): corral's CPU time and accuracy against statsforecast's and R's forecasts, which the
/// fixture scripts recorded, and their model choices. statsforecast is also timed in the same run
/// when python3 can import it.
public struct M3Benchmark: Sendable {
    public static let horizon = 18

    public struct Report: Sendable, Encodable {
        public var series: Int
        public var cpuSeconds: Double
        /// Mean MASE over the series (scaled by the in-sample seasonal naive error, m = 12).
        public var meanMASE: Double
        public var statsforecastMeanMASE: Double
        public var rMeanMASE: Double?
        /// corral's mean MASE over statsforecast's (target <= 0.98), and R's.
        public var maseRatioToStatsforecast: Double
        /// Paired bootstrap 95% interval of that ratio (2,000 resamples of the series, seeded): with 300
        /// series it is about +-2% wide, the noise floor of any accuracy claim on this panel.
        public var maseRatioCI95: [Double]
        public var rMaseRatioToStatsforecast: Double?
        public var rMaseRatioCI95: [Double]?
        /// Series where the model (orders and constant) is R's; same d and D.
        public var sameModelAsR: Int?
        public var sameDifferencingAsR: Int?
        public var statsforecastSameModelAsR: Int?
        /// CPU seconds the fixture scripts measured for the whole panel, and statsforecast in this run.
        public var statsforecastCpuSecondsRecorded: Double
        public var rCpuSecondsRecorded: Double?
        public var statsforecastCpuSecondsThisRun: Double?
        public var failures: [String]
    }

    struct Reference {
        var order: ARIMAOrder
        var constant: Bool
        var cpu: Double
        var forecast: [Double]
    }

    public var directory: String
    /// The first `series` of the panel, all of it when nil (statsforecast is timed on the same ones).
    public var series: Int?

    public init(directory: String, series: Int? = nil) {
        self.directory = directory
        self.series = series
    }

    func read(_ name: String) throws -> [Substring] {
        guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else {
            throw BenchmarkError("\(directory)/\(name) not found: pass --m3 DIR")
        }
        return text.split(whereSeparator: \.isNewline).dropFirst().map { $0 }
    }

    func panel() throws -> [(id: String, train: [Double], test: [Double])] {
        var order: [String] = []
        var series: [String: (train: [Double], test: [Double])] = [:]
        for line in try read("monthly.csv") {
            let f = line.split(separator: ",")
            guard f.count == 3, let value = Double(f[2]) else { continue }
            let id = String(f[0])
            if series[id] == nil { order.append(id) }
            if f[1] == "train" {
                series[id, default: ([], [])].train.append(value)
            } else {
                series[id, default: ([], [])].test.append(value)
            }
        }
        return order.map { ($0, series[$0]!.train, series[$0]!.test) }
    }

    func references(_ name: String) throws -> [String: Reference] {
        var result: [String: Reference] = [:]
        for line in try read(name) {
            let f = line.split(separator: ",").map(String.init)
            guard f.count == 9 + Self.horizon else { continue }
            let n = f[1...6].compactMap { Int($0) }
            guard n.count == 6 else { continue }
            result[f[0]] = Reference(
                order: ARIMAOrder(p: n[0], d: n[1], q: n[2], P: n[3], D: n[4], Q: n[5], period: 12),
                constant: f[7] == "true", cpu: Double(f[8]) ?? 0, forecast: f[9...].compactMap { Double($0) })
        }
        return result
    }

    /// Mean absolute error of `forecast` over `test`, scaled by the in-sample seasonal naive error.
    static func mase(train: [Double], test: [Double], forecast: [Double], period: Int = 12) -> Double {
        let m = train.count > period ? period : 1
        let scale = zip(train.dropFirst(m), train).map { abs($0 - $1) }.reduce(0, +) / Double(train.count - m)
        let error = zip(test, forecast).map { abs($0 - $1) }.reduce(0, +) / Double(test.count)
        return error / scale
    }

    /// The 2.5% and 97.5% quantiles of mean(a) / mean(b) over resamples of the pairs (a_i, b_i).
    static func bootstrapRatio(_ a: [Double], _ b: [Double], resamples: Int = 2000) -> [Double] {
        guard a.count == b.count, !a.isEmpty else { return [] }
        var random = SplitMix64(seed: 2026)
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var (sa, sb) = (0.0, 0.0)
            for _ in a.indices {
                let i = random.next(below: a.count)
                sa += a[i]
                sb += b[i]
            }
            ratios.append(sa / sb)
        }
        ratios.sort()
        return [ratios[Int(0.025 * Double(resamples - 1))], ratios[Int(0.975 * Double(resamples - 1))]]
    }

    static func sameModel(_ order: ARIMAOrder, _ constant: Bool, _ reference: Reference) -> Bool {
        let seasonal = order.P + order.D + order.Q > 0
        let a = [order.p, order.d, order.q, seasonal ? order.P : 0, seasonal ? order.D : 0, seasonal ? order.Q : 0]
        let b = [
            reference.order.p, reference.order.d, reference.order.q, reference.order.P, reference.order.D,
            reference.order.Q,
        ]
        return a == b && constant == reference.constant
    }

    public func run(progress: (String) -> Void) throws -> Report {
        let series = Array(try panel().prefix(self.series ?? .max))
        let statsforecast = try references("statsforecast.csv")
        let r = try? references("r.csv")
        progress("auto-ARIMA over \(series.count) M3 monthly series")
        var cpu = 0.0
        var mase: [Double] = []
        var sfMASE: [Double] = []
        var rMASE: [Double] = []
        var same = 0
        var sameD = 0
        var sfSame = 0
        var failures: [String] = []
        for (id, train, test) in series {
            guard let sf = statsforecast[id] else { continue }
            let start = ForecastBenchmark.threadCPU()
            let fit: ARIMAFit
            do { fit = try AutoARIMA().fit(train, period: 12) } catch {
                failures.append("\(id): \(error)")
                continue
            }
            let forecast = fit.forecast(Self.horizon).map(\.mean)
            cpu += ForecastBenchmark.threadCPU() - start
            mase.append(Self.mase(train: train, test: test, forecast: forecast))
            sfMASE.append(Self.mase(train: train, test: test, forecast: sf.forecast))
            if let reference = r?[id] {
                rMASE.append(Self.mase(train: train, test: test, forecast: reference.forecast))
                if Self.sameModel(fit.order, fit.constant != .none, reference) { same += 1 }
                if fit.order.d == reference.order.d && fit.order.D == reference.order.D { sameD += 1 }
                if Self.sameModel(sf.order, sf.constant, reference) { sfSame += 1 }
            }
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        let complete = r != nil && rMASE.count == mase.count
        var report = Report(
            series: mase.count, cpuSeconds: cpu, meanMASE: mean(mase), statsforecastMeanMASE: mean(sfMASE),
            rMeanMASE: complete ? mean(rMASE) : nil, maseRatioToStatsforecast: mean(mase) / mean(sfMASE),
            maseRatioCI95: Self.bootstrapRatio(mase, sfMASE),
            rMaseRatioToStatsforecast: complete ? mean(rMASE) / mean(sfMASE) : nil,
            rMaseRatioCI95: complete ? Self.bootstrapRatio(rMASE, sfMASE) : nil,
            sameModelAsR: complete ? same : nil, sameDifferencingAsR: complete ? sameD : nil,
            statsforecastSameModelAsR: complete ? sfSame : nil,
            statsforecastCpuSecondsRecorded: statsforecast.values.map(\.cpu).reduce(0, +),
            rCpuSecondsRecorded: r.map { $0.values.map(\.cpu).reduce(0, +) }, failures: failures)
        progress("statsforecast over the same panel, when python3 has it")
        report.statsforecastCpuSecondsThisRun = try timeStatsforecast()
        return report
    }

    /// statsforecast's AutoARIMA over the panel's training parts in this run (CPU seconds, after a
    /// warm-up fit), or nil when python3 cannot import it.
    func timeStatsforecast() throws -> Double? {
        let script = """
            import csv, os, sys, time
            os.environ.setdefault("NUMBA_NUM_THREADS", "1")
            try:
                import numpy as np
                from statsforecast.models import AutoARIMA
            except ImportError:
                sys.exit(3)
            series = {}
            for row in csv.DictReader(open(sys.argv[1])):
                if row["part"] == "train": series.setdefault(row["id"], []).append(float(row["value"]))
            ys = [np.asarray(v) for v in series.values()]
            AutoARIMA(season_length=12).fit(ys[0])
            start = time.process_time()
            ys = ys[: int(sys.argv[2])]
            for y in ys: AutoARIMA(season_length=12).fit(y).predict(h=18)
            print(time.process_time() - start)
            """
        let text = try ForecastBenchmark.output(
            of: "/usr/bin/env", ["python3", "-c", script, directory + "/monthly.csv", String(series ?? 1_000_000)])
        return text.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
