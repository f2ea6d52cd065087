import ArgumentParser
import Benchmarks
import Foundation
import Sandbox

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure Corral against its peers in one run (ratios, not absolute times).",
        subcommands: [
            Launch.self, Place.self, Submit.self, EndToEnd.self, AgentOverhead.self, ForecastFit.self, Replay.self,
            OCIRuntime.self, Schedules.self, Anomaly.self,
        ])

    struct Launch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Time plain fork/exec of /bin/true against Corral's isolated launch + teardown, crun, runc and bwrap.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Timed launches per variant.") var iterations = 200
        @Option(help: "Untimed launches per variant first.") var warmup = 10
        @Option(help: "Network for every variant: host, or none (a new network namespace each).") var net: String =
            "host"
        @Flag(help: "Print one JSON object.") var json = false
        @Flag(help: "Clone sandboxes in this process instead of through the spawner.") var noSpawner = false
        @Option(help: "Allocate and touch this much memory first, as a long-running agent would have (e.g. 512Mi).")
        var ballast: String?

        func validate() throws {
            guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
            guard NetworkMode(rawValue: net) != nil else { throw ValidationError("--net must be none or host") }
        }

        func run() async throws {
            let logger = global.bootstrap(label: "corral.bench")
            let heldBallast = try LaunchBenchmark.ballast(ballast)
            defer { withExtendedLifetime(heldBallast) {} }
            let sandbox = try Sandbox(config: SandboxConfig(useSpawner: !noSpawner), logger: logger)
            let bench = LaunchBenchmark(
                iterations: iterations, warmup: warmup, network: NetworkMode(rawValue: net)!,
                executable: BenchCommand.executable)
            let quiet = json
            let report = try await bench.run(sandbox: sandbox) { line in
                if !quiet { FileHandle.standardError.write(Data("bench: \(line)\n".utf8)) }
            }
            if json { return try BenchCommand.printJSON(report) }
            print("launch + teardown of /bin/true, \(report.iterations) iterations")
            print("variant      min ms   p50 ms   p99 ms  min/plain  p50/plain")
            for v in report.variants {
                let name = v.name + String(repeating: " ", count: max(0, 10 - v.name.count))
                print(
                    name
                        + String(
                            format: " %8.3f %8.3f %8.3f %10.2fx %9.2fx", v.minMs, v.p50Ms, v.p99Ms, v.ratioMin,
                            v.ratioP50))
            }
            if let corral = report.variants.first(where: { $0.name == "corral" }) {
                for peer in report.variants where ["crun", "runc", "bwrap"].contains(peer.name) {
                    print(String(format: "%@ takes %.1fx corral's time (p50)", peer.name, peer.p50Ms / corral.p50Ms))
                }
            }
            report.notes.forEach { print("note: " + $0) }
        }
    }

    struct Place: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Placements per second over a synthetic heterogeneous cluster, against a full scan in the same run.")

        @Option(help: "Nodes in the synthetic cluster (70-90% pre-filled).") var nodes = 10_000
        @Option(help: "Tasks to place.") var tasks = 200_000
        @Option(help: "Tasks the full-scan reference also places; their choices must agree.") var scanTasks = 2000
        @Option(help: "Seed of the synthetic cluster and tie-breaking.") var seed: UInt64 = 42
        @Option(help: "Forecast horizons per node, each task scored by one (the scheduler has 3).") var horizons = 3
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard nodes > 0, tasks > 0, scanTasks >= 0 else {
                throw ValidationError("--nodes and --tasks must be positive, --scan-tasks not negative")
            }
            guard (1...16).contains(horizons) else { throw ValidationError("--horizons must be 1...16") }
        }

        func run() throws {
            let report = PlacementBenchmark(
                nodes: nodes, tasks: tasks, scanTasks: scanTasks, seed: seed, horizons: horizons
            ).run()
            if json { return try BenchCommand.printJSON(report) }
            print(
                "placement: \(report.nodes) nodes, \(report.tasks) tasks, \(report.placed) placed, "
                    + "\(report.horizons) forecast horizon(s), one core")
            print(
                String(
                    format: "tree search  %10.0f placements/s   p50 %.2f us   p99 %.2f us", report.placementsPerSecond,
                    report.p50Us, report.p99Us))
            print(
                String(
                    format: "full scan    %10.0f placements/s   (first %d tasks; agreed on %d)",
                    report.scanPlacementsPerSecond, report.scanTasks, report.scanAgreed))
            print(String(format: "tree search is %.1fx the full scan", report.speedupOverScan))
            if report.scanAgreed != report.scanTasks { throw ExitCode(1) }
        }
    }

    struct Schedules: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cron schedules on the timing wheel, against a scan of every schedule per tick in the same run.")

        @Option(help: "Schedules held (all daily; then a third each every 5 minutes, hourly, daily).") var schedules =
            100_000
        @Option(help: "One-second ticks simulated.") var seconds = 600
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard schedules > 0, seconds > 0 else {
                throw ValidationError("--schedules and --seconds must be positive")
            }
        }

        func run() throws {
            let reports = try ScheduleBenchmark.Mix.allCases.map {
                try ScheduleBenchmark(schedules: schedules, seconds: seconds, mix: $0).run()
            }
            if json { return try BenchCommand.printJSON(reports) }
            print("schedules: \(schedules) cron schedules over \(seconds) one-second ticks, one core")
            for report in reports {
                let figures = String(
                    format:
                        "timing wheel %8.1f us per tick, scan %8.1f us per tick: the wheel is %.1fx the scan; %.0f fires/s",
                    report.wheelTickUs, report.scanTickUs, report.speedupOverScan, report.wheelFiresPerSecond)
                print("\(BenchCommand.pad(report.mix.rawValue, 6)) (\(report.fires) fires): " + figures)
            }
            if reports.contains(where: { !$0.agreed }) {
                print("the wheel and the scan fired differently")
                throw ExitCode(1)
            }
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Internal: times an OCI runtime from inside a private mount namespace (see LaunchBenchmark).
    struct OCIRuntime: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "oci-runtime", shouldDisplay: false)

        @Option var runtime: String
        @Option var bundle: String
        @Option var iterations: Int
        @Option var warmup: Int

        func run() throws {
            let samples = try LaunchBenchmark.timeRuntime(
                path: runtime, bundle: bundle, iterations: iterations, warmup: warmup)
            print(String(decoding: try JSONEncoder().encode(samples), as: UTF8.self))
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
