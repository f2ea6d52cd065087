import ArgumentParser
import Benchmarks
import Foundation
import Sandbox

/// The benchmarks that run `corral` processes: a scheduler alone, a scheduler with agents.
extension BenchCommand {
    /// Where a cluster benchmark keeps its processes' data: `--data-dir`, or a new directory under /var/tmp
    /// (a real disk, so that durable writes cost what they cost), removed afterwards unless `--keep`.
    struct ClusterOptions: ParsableArguments {
        @Option(help: "Data directory for the processes (default: a new one under /var/tmp, removed afterwards).")
        var dataDir: String?
        @Flag(help: "Keep the data directory (state, logs) afterwards.") var keep = false
        @Flag(help: "Print one JSON object.") var json = false
        @Option(
            help:
                "The scheduler's store: sqlite, or etcd (three members and three schedulers on loopback; needs etcd-server)."
        )
        var store: BenchStore = .sqlite

        func withDirectory<T>(_ name: String, _ body: (String, String) async throws -> T) async throws -> T {
            let directory = dataDir ?? "/var/tmp/corral-bench-\(name)-\(getpid())"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { if !keep && dataDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
            return try await body(directory, BenchCommand.executable)
        }

        func progress(_ line: String) {
            if !json { FileHandle.standardError.write(Data("bench: \(line)\n".utf8)) }
        }
    }

    /// A report as one JSON object with sorted keys (`--json`).
    static func printJSON(_ value: some Encodable) throws {
        print(String(decoding: try JSONEncoder.sorted.encode(value), as: UTF8.self))
    }

    /// This binary, for the processes a benchmark starts.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Job acknowledgement latency of a real scheduler, against an HTTP round trip and a durable commit.")

        @OptionGroup var options: ClusterOptions
        @Option(help: "Timed submissions.") var jobs = 500

        func validate() throws { guard jobs > 0 else { throw ValidationError("--jobs must be positive") } }

        func run() async throws {
            let report = try await options.withDirectory("submit") { directory, binary in
                try await SubmitBenchmark(jobs: jobs, binary: binary, dataDir: directory, store: options.store).run(
                    progress: options.progress)
            }
            if options.json { return try BenchCommand.printJSON(report) }
            let where_ = report.store == .etcd ? "the leader of 3 schedulers on a 3-member etcd" : "a corral scheduler"
            print("job submission through \(where_) on 127.0.0.1, \(report.jobs) jobs, one at a time")
            print(
                String(
                    format: "acknowledged (201)   min %.2f ms   p50 %.2f ms   p99 %.2f ms", report.ackMinMs,
                    report.ackP50Ms, report.ackP99Ms))
            print(
                String(format: "HTTP round trip      p50 %.2f ms (authenticated read, no write)", report.roundTripP50Ms)
            )
            print(
                String(
                    format: "durable commit       p50 %.2f ms (%@)", report.commitP50Ms,
                    report.store == .etcd ? "an etcd transaction, 3 members" : "SQLiteStore, synchronous FULL"))
            print(String(format: "acknowledgement p50 is %.2fx the two floors together", report.ackOverFloors))
        }
    }

    struct EndToEnd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "e2e",
            abstract: "Short-task throughput and submit->running latency through a scheduler and local agents.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: ClusterOptions
        @Option(help: "Agents (separate processes, 2 cores and 4 GiB declared each).") var agents = 3
        @Option(help: "Tasks in the throughput phase.") var tasks = 5000
        @Option(help: "Tasks per job in the throughput phase.") var batch = 100
        @Option(help: "Single-task jobs in the latency phase, one every 20 ms.") var latencySamples = 200
        @Option(
            help:
                "Launches in flight when first running the same tasks through the sandbox alone, no scheduler or agents (the ceiling; 0 skips it)."
        )
        var ceilingConcurrency = 16

        func validate() throws {
            guard agents > 0, tasks > 0, batch > 0, latencySamples > 0 else {
                throw ValidationError("--agents, --tasks, --batch and --latency-samples must be positive")
            }
            guard ceilingConcurrency >= 0 else { throw ValidationError("--ceiling-concurrency must not be negative") }
        }

        func run() async throws {
            let logger = global.bootstrap(label: "corral.bench")
            let sandbox = ceilingConcurrency > 0 ? try Sandbox(config: SandboxConfig(), logger: logger) : nil
            let report = try await options.withDirectory("e2e") { directory, binary in
                try await EndToEndBenchmark(
                    agents: agents, tasks: tasks, batch: batch, latencySamples: latencySamples, binary: binary,
                    dataDir: directory, ceilingConcurrency: ceilingConcurrency, store: options.store
                ).run(sandbox: sandbox, progress: { options.progress($0) })
            }
            if options.json { return try BenchCommand.printJSON(report) }
            let schedulers = report.store == .etcd ? "3 schedulers on a 3-member etcd" : "scheduler"
            print("end to end: \(schedulers) + \(report.agents) agents on 127.0.0.1, /bin/true in a full sandbox")
            print(
                String(
                    format:
                        "throughput        %.0f tasks/s (%d of %d completed in %.2f s; failed %d, lost %d, retried %d)",
                    report.tasksPerSecond, report.completed, report.tasks, report.durationSeconds, report.failed,
                    report.lost, report.retried))
            print(
                String(
                    format:
                        "submit->running   p50 %.2f ms   p99 %.2f ms   max %.2f ms (%d single-task jobs, idle cluster)",
                    report.submitToRunningP50Ms, report.submitToRunningP99Ms, report.submitToRunningMaxMs,
                    report.latencySamples))
            let cpu = report.cpuMsPerTask
            print(
                String(
                    format:
                        "CPU per task      %.2f ms: scheduler %.2f, agents %.2f, sandboxes %.2f, other (kernel workers, client) %.2f",
                    cpu.total, cpu.scheduler, cpu.agents, cpu.sandboxes, cpu.other))
            if let ceiling = report.sandboxCeiling, let ratio = report.ratioToCeiling {
                print(
                    String(
                        format:
                            "sandbox ceiling   %.0f tasks/s, %.2f ms CPU per task (the same tasks through the sandbox alone, %d at a time, in %.2f s); throughput is %.2fx of it",
                        ceiling.tasksPerSecond, ceiling.cpuMsPerTask.total, ceiling.concurrency,
                        ceiling.durationSeconds,
                        ratio))
                let own = ceiling.cpuMsPerTask
                print(
                    String(
                        format: "  its CPU per task: launcher %.2f, sandboxes %.2f, other (kernel workers) %.2f",
                        own.agents, own.sandboxes, own.other))
            }
        }
    }

    struct AgentOverhead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agent", abstract: "CPU an agent costs while it supervises and samples many running tasks.")

        @OptionGroup var options: ClusterOptions
        @Option(help: "Running tasks to supervise.") var tasks = 500
        @Option(help: "Seconds each measurement window lasts.") var window = 10

        func validate() throws {
            guard tasks > 0, window > 0 else { throw ValidationError("--tasks and --window must be positive") }
        }

        func run() async throws {
            let report = try await options.withDirectory("agent") { directory, binary in
                try await AgentBenchmark(tasks: tasks, window: .seconds(window), binary: binary, dataDir: directory)
                    .run(progress: { options.progress($0) })
            }
            if options.json { return try BenchCommand.printJSON(report) }
            print(
                "agent: \(report.tasks) running tasks, heartbeat every \(report.heartbeatIntervalSeconds) s, \(report.heartbeats) heartbeats in \(report.windowSeconds) s"
            )
            print(String(format: "idle agent            %.3f%% of one core", report.idleCpuPercent))
            print(String(format: "with %d tasks        %.3f%% of one core", report.tasks, report.busyCpuPercent))
            print(String(format: "cost of the tasks     %.3f%% of one core", report.perTasksCpuPercent))
        }
    }
}

extension BenchCommand {
    struct ForecastFit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast", abstract: "CPU time of ARIMA fits, against R's forecast package in the same run.")

        @Option(help: "Fits to time (the median is reported).") var repeats = 20
        @Option(help: "The auto-ARIMA panel's directory (auto.json, auto/*.csv; default: the package's).")
        var panel: String?
        @Flag(help: "Skip the auto-ARIMA panel.") var noPanel = false
        @Option(
            help: "The M3 monthly panel's directory (monthly.csv, statsforecast.csv, r.csv; default: the package's).")
        var m3: String?
        @Flag(help: "Skip the M3 monthly panel.") var noM3 = false
        @Option(help: "Only the M3 panel's first N series (default all 300).") var m3Series: Int?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
            if let m3Series, m3Series <= 0 { throw ValidationError("--m3-series must be positive") }
        }

        func run() throws {
            let panel = noPanel ? nil : try self.panel ?? Datasets.directory(holding: "auto.json", flag: "--panel")
            let m3 = noM3 ? nil : try self.m3 ?? Datasets.directory(holding: "m3", flag: "--m3") + "/m3"
            let report = try ForecastBenchmark(
                repeats: repeats, panel: panel, m3: m3, m3Series: m3Series
            ).run { line in
                if !json { FileHandle.standardError.write(Data("bench: \(line)\n".utf8)) }
            }
            if json { return try BenchCommand.printJSON(report) }
            print("fixed ARIMA(2,1,2), n = \(report.length), CSS-ML, median of \(report.repeats) fits, one thread")
            print(
                String(
                    format: "corral   %8.2f ms CPU   log-likelihood %.4f", report.fixed212N2000CpuMs,
                    report.logLikelihood))
            if let r = report.rCpuMs, let rl = report.rLogLikelihood, let ratio = report.ratioToR {
                print(String(format: "R        %8.2f ms CPU   log-likelihood %.4f", r, rl))
                print(String(format: "corral takes %.2fx R's CPU time", ratio))
            }
            if let panel = report.autoPanel {
                print(String(format: "auto-ARIMA, %d real series: corral %.2f s CPU", panel.series, panel.cpuSeconds))
                if let r = panel.rCpuSeconds {
                    print(
                        String(
                            format: "auto-ARIMA, same series:   R      %.2f s CPU (%.1fx corral)", r,
                            r / panel.cpuSeconds))
                }
                if let taylor = panel.taylorM48N2000CpuSeconds, let model = panel.taylorModel {
                    print(String(format: "auto-ARIMA, half-hourly n = 2000, m = 48: %.2f s CPU, %@", taylor, model))
                }
            }
            if let m3 = report.m3Monthly { Self.printM3(m3) }
            report.notes.forEach { print("note: " + $0) }
        }

        static func printM3(_ m3: M3Benchmark.Report) {
            print(
                String(
                    format: "auto-ARIMA, M3 monthly, %d series, h = 18: corral %.2f s CPU, mean MASE %.4f", m3.series,
                    m3.cpuSeconds, m3.meanMASE))
            func interval(_ ci: [Double]?) -> String {
                guard let ci, ci.count == 2 else { return "" }
                return String(format: " [%.4f, %.4f]", ci[0], ci[1])
            }
            print(
                String(
                    format: "  statsforecast mean MASE %.4f: corral/statsforecast %.4f%@ (target <= 0.98)",
                    m3.statsforecastMeanMASE, m3.maseRatioToStatsforecast, interval(m3.maseRatioCI95)))
            if let r = m3.rMeanMASE, let ratio = m3.rMaseRatioToStatsforecast {
                print(
                    String(
                        format: "  R mean MASE %.4f: R/statsforecast %.4f%@", r, ratio, interval(m3.rMaseRatioCI95)))
            }
            print("  (paired bootstrap 95% intervals over the series)")
            if let same = m3.sameModelAsR, let sameD = m3.sameDifferencingAsR, let sf = m3.statsforecastSameModelAsR {
                print(
                    "  same model as R: corral \(same)/\(m3.series) (same d, D: \(sameD)), statsforecast \(sf)/\(m3.series)"
                )
            }
            var cpu = String(
                format: "  CPU recorded by the fixture scripts: statsforecast %.1f s",
                m3.statsforecastCpuSecondsRecorded)
            if let r = m3.rCpuSecondsRecorded { cpu += String(format: ", R %.1f s", r) }
            print(cpu)
            if let sf = m3.statsforecastCpuSecondsThisRun {
                print(String(format: "  statsforecast in this run: %.2f s CPU (%.1fx corral)", sf, sf / m3.cpuSeconds))
            }
            m3.failures.forEach { print("  failed: " + $0) }
        }
    }
}

extension BenchStore: ExpressibleByArgument {}
