import ArgumentParser
import Benchmarks
import Foundation

extension BenchCommand {
    struct Anomaly: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "anomaly",
            abstract: "Precision and recall of the load-anomaly alert on recorded CPU traces with injected anomalies.")

        @Option(help: "Directory of the traces (alibaba2018/google2019/azure2-cpu-300s.csv; default: the package's).")
        var traces: String?
        @Option(help: "Seeds per trace (each places its anomalies anew).") var seeds = 3
        @Option(help: "Anomalies injected per trace and seed.") var anomalies = 8
        @Option(help: "Samples (5 min each) an anomaly lasts.") var length = 6
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard (1...20).contains(seeds) else { throw ValidationError("--seeds must be within 1...20") }
            guard (1...40).contains(anomalies) else { throw ValidationError("--anomalies must be within 1...40") }
            guard (1...24).contains(length) else { throw ValidationError("--length must be within 1...24") }
        }

        func run() throws {
            let traces = try self.traces ?? Datasets.directory(holding: "traces", flag: "--traces") + "/traces"
            let report = try AnomalyBenchmark(traces: traces, seeds: seeds, anomalies: anomalies, length: length).run {
                if !json { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) }
            }
            if json { return try BenchCommand.printJSON(report) }
            print(
                "anomaly: \(report.injected) anomalies of \(length) samples injected in "
                    + "\(report.traces.joined(separator: ", ")); \(report.samplesJudged) samples judged")
            print("detector    N  precision  recall  false alarms  delay (samples)")
            for score in report.scores {
                print(
                    String(
                        format: "%@ %2d  %9.3f  %6.3f  %12d  %5.2f",
                        score.detector.padding(toLength: 10, withPad: " ", startingAt: 0), score.samples,
                        score.precision, score.recall, score.falseAlarms, score.meanDelay))
            }
            print(String(format: "ARIMA detector CPU: %.2f s (model selection and judging)", report.arimaCPUSeconds))
        }
    }
}
