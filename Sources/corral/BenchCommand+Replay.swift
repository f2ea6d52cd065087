import ArgumentParser
import Benchmarks
import Foundation

extension BenchCommand {
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Replay recorded data-centre CPU traces under placement on requests alone and on ARIMA forecasts."
        )

        @Option(help: "Directory of the traces (alibaba2018/google2019/azure2-cpu-300s.csv; default: the package's).")
        var traces: String?
        @Option(help: "Simulated nodes (8 cores each).") var nodes = 6
        @Option(help: "5-minute steps to replay (at most 2016, a week).") var steps = 2016
        @Option(help: "Mean task arrivals per step (1 core, 0.5-3 h each).") var arrivals = 1.4
        @Flag(help: "Also replay feasibility at every interval (80, 95) and ceiling (0.8...1.0).") var sweep = false
        @Option(help: "With --sweep: write the trade-off (p95 pressure against task-hours) as SVG to this file.")
        var svg: String?
        @Option(help: "With --sweep: write reclamation's trade-off (reserved background) as SVG to this file.")
        var reclaimSvg: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard nodes > 0 else { throw ValidationError("--nodes must be positive") }
            guard (100...2016).contains(steps) else { throw ValidationError("--steps must be 100...2016") }
            guard arrivals > 0, arrivals < 20 else { throw ValidationError("--arrivals must be within (0, 20)") }
            guard (svg == nil && reclaimSvg == nil) || sweep else {
                throw ValidationError("--svg and --reclaim-svg draw the sweep: add --sweep")
            }
        }

        func run() throws {
            let traces = try self.traces ?? Datasets.directory(holding: "traces", flag: "--traces") + "/traces"
            let report = try ReplayBenchmark(
                traces: traces, nodes: nodes, steps: steps, arrivals: arrivals, sweep: sweep
            ).run {
                if !json { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) }
            }
            if let svg { try report.tradeOffSVG().write(toFile: svg, atomically: true, encoding: .utf8) }
            if let reclaimSvg {
                try report.reclamationTradeOffSVG().write(toFile: reclaimSvg, atomically: true, encoding: .utf8)
            }
            if json { return try BenchCommand.printJSON(report) }
            print(
                "replay: \(report.nodes) nodes x \(report.steps) steps of 5 min, \(report.tasks) tasks, background "
                    + report.traces.joined(separator: ", "))
            print(
                "scoring                           p50     p95     p99   overloaded  task-h   wait mean/p95 (min)  queued  CPU s"
                    + "  evicted  reclaimable-h"
            )
            func line(_ outcome: ReplayBenchmark.Outcome) {
                let setting =
                    outcome.ceiling.map { " \(Int(outcome.interval ?? 0))%/\(String(format: "%g", $0))" } ?? ""
                print(
                    String(
                        format: "%@ %6.3f  %6.3f  %6.3f  %9.2f%%  %6.0f  %8.1f / %6.1f  %8d  %5.1f  %7d  %13.0f",
                        (outcome.scoring + setting).padding(toLength: 31, withPad: " ", startingAt: 0),
                        outcome.p50Pressure, outcome.p95Pressure, outcome.p99Pressure, outcome.overloadedFraction * 100,
                        outcome.taskHours, outcome.meanWaitMinutes, outcome.p95WaitMinutes, outcome.unplaced,
                        outcome.cpuSeconds, outcome.evictions, outcome.reclaimableHours))
            }
            for outcome in [
                report.requestsOnly, report.fixedHour, report.forecast, report.conservative, report.dailySeason,
                report.feasibility,
            ] {
                line(outcome)
            }
            print("requests over-stated (40% of tasks ask two cores, use 0.9 of one):")
            for outcome in report.overstated { line(outcome) }
            print("the over-stated stream plus reclaimable batch tasks (0.7 a step):")
            for outcome in report.batch { line(outcome) }
            print("the honest stream plus the batch tasks, each node's background a service reserving its peak (60%):")
            for outcome in report.reservedBackground { line(outcome) }
            if !report.sweep.isEmpty {
                print("sweep (honest stream):")
                for outcome in report.sweep { line(outcome) }
                print("sweep of requests + reclamation (honest stream + batch, background reserved):")
                for outcome in report.batchSweep { line(outcome) }
            }
            print(
                String(
                    format:
                        "p95 pressure over requests alone: %.3f (forecast over the next hour), %.3f (over each task's"
                        + " duration), %.3f (its 80%% bound), %.3f (with the daily season)", report.p95RatioFixedHour,
                    report.p95RatioForecast, report.p95RatioConservative, report.p95RatioDailySeason))
            print(
                String(
                    format: "task-hours over requests alone on the batch stream: %.3f (feasibility + reclamation),"
                        + " %.3f (requests + reclamation)", report.reclamationTaskHoursRatio,
                    report.requestsReclamationTaskHoursRatio))
        }
    }
}
