import CSandbox
import Forecast
import Foundation
import Placement

/// `corral bench forecast`: CPU time of a fixed ARIMA(2,1,2) fit (CSS-ML) at n = 2000, the median of
/// `repeats` fits on this thread, next to R's forecast::Arima on the same series in the same run when
/// Rscript and the forecast package are installed. The series is simulated from a seeded generator, the
/// same in every run.
public struct ForecastBenchmark: Sendable {
    public var repeats: Int
    public var length: Int
    /// The parity fixtures' directory (auto.json, auto/*.csv) for the auto-ARIMA panel; nil skips it.
    public var panel: String?
    /// The M3 monthly panel's directory (monthly.csv, statsforecast.csv, r.csv); nil skips it.
    public var m3: String?
    /// The M3 panel's first series only (all 300 when nil).
    public var m3Series: Int?

    public init(repeats: Int = 20, length: Int = 2000, panel: String? = nil, m3: String? = nil, m3Series: Int? = nil) {
        self.repeats = repeats
        self.length = length
        self.panel = panel
        self.m3 = m3
        self.m3Series = m3Series
    }

    /// Auto-ARIMA over a panel of series (auto.json + auto/<name>.csv, as the parity fixtures).
    public struct PanelReport: Sendable, Encodable {
        public var series: Int
        public var cpuSeconds: Double
        public var rCpuSeconds: Double?
        /// The long-season stress series (half-hourly, m = 48, n = 2000), when present.
        public var taylorM48N2000CpuSeconds: Double?
        public var taylorModel: String?
    }

    public struct Report: Sendable, Encodable {
        public var autoPanel: PanelReport?
        public var m3Monthly: M3Benchmark.Report?
        public var length: Int
        public var repeats: Int
        public var fixed212N2000CpuMs: Double
        public var logLikelihood: Double
        /// R's forecast::Arima on the same series, CPU ms per fit, and its log-likelihood (nil without R).
        public var rCpuMs: Double?
        public var rLogLikelihood: Double?
        public var ratioToR: Double?
        public var notes: [String]
    }

    /// ARIMA(2,1,2): (1 - 0.5B + 0.3B^2)(1 - B) y = (1 + 0.4B + 0.2B^2) e, e ~ N(0, 1), plus 100.
    public func series() -> [Double] {
        var random = SplitMix64(seed: 2026)
        func normal() -> Double {  // Box-Muller
            let u = max(random.nextDouble(), 1e-300)
            let v = random.nextDouble()
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        var w = [Double](repeating: 0, count: length + 100)
        var e = [Double](repeating: 0, count: length + 100)
        for t in 0..<w.count {
            e[t] = normal()
            let ar = (t >= 1 ? 0.5 * w[t - 1] : 0) - (t >= 2 ? 0.3 * w[t - 2] : 0)
            let ma = (t >= 1 ? 0.4 * e[t - 1] : 0) + (t >= 2 ? 0.2 * e[t - 2] : 0)
            w[t] = ar + e[t] + ma
        }
        var level = 100.0
        return w.dropFirst(100).map {
            level += $0
            return level
        }
    }

    public func run(progress: (String) -> Void) throws -> Report {
        let y = series()
        let order = ARIMAOrder(p: 2, d: 1, q: 2)
        var samples = Samples()
        var loglik = Double.nan
        progress("fitting ARIMA(2,1,2) to \(length) points \(repeats) times")
        for _ in 0..<repeats {
            let start = Self.threadCPU()
            let fit = try ARIMA.fit(y, order: order)
            samples.add(milliseconds: (Self.threadCPU() - start) * 1000)
            loglik = fit.logLikelihood
        }
        var report = Report(
            length: length, repeats: repeats, fixed212N2000CpuMs: samples.percentile(50), logLikelihood: loglik,
            notes: [])
        if let panel {
            progress("auto-ARIMA over the panel in \(panel)")
            report.autoPanel = try runPanel(panel)
        }
        if let m3 { report.m3Monthly = try M3Benchmark(directory: m3, series: m3Series).run(progress: progress) }
        if let r = try timeR(y) {
            report.rCpuMs = r.cpuMs
            report.rLogLikelihood = r.loglik
            report.ratioToR = report.fixed212N2000CpuMs / r.cpuMs
        } else {
            report.notes.append("R: Rscript with the forecast package not installed (apt-get install r-cran-forecast)")
        }
        return report
    }

    static func threadCPU() -> Double { corral_thread_cpu_seconds() }

    /// R's CPU per fit (user + system over `repeats` fits) and log-likelihood, or nil without R.
    func timeR(_ y: [Double]) throws -> (cpuMs: Double, loglik: Double)? {
        let file = NSTemporaryDirectory() + "corral-bench-forecast-\(getpid()).csv"
        try ("value\n" + y.map { String($0) }.joined(separator: "\n") + "\n").write(
            toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let script = """
            if (!suppressMessages(requireNamespace("forecast", quietly = TRUE))) quit(status = 3)
            y <- ts(read.csv("\(file)")$value)
            f <- forecast::Arima(y, order = c(2, 1, 2))
            t <- system.time(for (i in 1:\(repeats)) f <- forecast::Arima(y, order = c(2, 1, 2)))
            cat(sprintf("%.17g %.17g\\n", (t[["user.self"]] + t[["sys.self"]]) / \(repeats) * 1000, f$loglik))
            """
        guard let text = try Self.runR(script) else { return nil }
        let fields = text.split(separator: " ").compactMap {
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard fields.count == 2 else { return nil }
        return (fields[0], fields[1])
    }

    struct PanelEntry: Decodable {
        var name: String
        var period: Int
    }

    func runPanel(_ directory: String) throws -> PanelReport {
        guard let data = FileManager.default.contents(atPath: directory + "/auto.json") else {
            throw BenchmarkError("\(directory)/auto.json not found: pass --panel DIR")
        }
        let entries = try JSONDecoder().decode([PanelEntry].self, from: data)
        var cpu = 0.0
        for entry in entries {
            let y = try CSVSeries.parse(
                try String(contentsOfFile: directory + "/auto/\(entry.name).csv", encoding: .utf8))
            let start = Self.threadCPU()
            _ = try AutoARIMA().fit(y, period: max(entry.period, 1))
            cpu += Self.threadCPU() - start
        }
        var report = PanelReport(series: entries.count, cpuSeconds: cpu)
        if let text = try? String(contentsOfFile: directory + "/auto/taylor2000.csv.stress", encoding: .utf8) {
            let y = try CSVSeries.parse(text)
            let start = Self.threadCPU()
            let fit = try AutoARIMA().fit(y, period: 48)
            report.taylorM48N2000CpuSeconds = Self.threadCPU() - start
            report.taylorModel = "\(fit.order)"
        }
        let calls = entries.map { entry in
            "y <- ts(read.csv(\"\(directory)/auto/\(entry.name).csv\")$value, frequency = \(max(entry.period, 1))); "
                + "t <- t + sum(system.time(forecast::auto.arima(y))[c(\"user.self\", \"sys.self\")])"
        }
        let script =
            "if (!suppressMessages(requireNamespace(\"forecast\", quietly = TRUE))) quit(status = 3)\nt <- 0\n"
            + calls.joined(separator: "\n") + "\ncat(sprintf(\"%.6f\\n\", t))\n"
        report.rCpuSeconds = try Self.runR(script).flatMap {
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return report
    }

    /// Runs an R script with Rscript and returns its standard output, or nil without R (or on failure).
    static func runR(_ script: String) throws -> String? {
        guard
            let rscript = ["/usr/bin/Rscript", "/usr/local/bin/Rscript"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { return nil }
        return try output(of: rscript, ["-e", script])
    }

    /// A peer's standard output (its stderr dropped), or nil when it exits non-zero.
    static func output(of executable: String, _ arguments: [String]) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? text : nil
    }
}
