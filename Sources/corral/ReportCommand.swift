import ArgumentParser
import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Reports
import SchedulerService

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Capacity-planning and quota reports.", subcommands: [Capacity.self])

    struct Capacity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How full the cluster is, when it runs out, what fits, and who uses what.",
            discussion: """
                Reads a running scheduler (--scheduler, with an admin token) or a scheduler's data directory \
                (--data-dir; the scheduler may be running). Without --format the format follows --out's \
                extension (.html, .json, .md), and Markdown goes to standard output.
                """)

        @Option(help: "Scheduler URL (default $CORRAL_ADDR); needs the admin token (--token-file or $CORRAL_TOKEN).")
        var scheduler: String?
        @Option(help: "File (mode 0600) holding the admin token (default: $CORRAL_TOKEN).") var tokenFile: String?
        @Option(help: "CA certificate (PEM) to verify an https:// scheduler with (default: $CORRAL_CACERT).")
        var ca: String?
        @Option(help: "A scheduler's data directory, read directly instead of asking the scheduler.")
        var dataDir: String?
        @Option(help: "With --data-dir: the configuration file with tenants' quotas (default <data-dir>/config.json).")
        var config: String?
        @Option(help: "History to read, like 14d or 12h.") var since = "14d"
        @Option(help: "How far ahead to forecast, like 7d.") var horizon = "7d"
        @Option(help: "html, json or md.") var format: String?
        @Option(help: "Write the report to this file instead of standard output.") var out: String?
        @Option(help: "Task shape CPU,MEMORY to count headroom in, like 1,2GiB (repeatable).") var shape: [String] = []

        var resolvedFormat: CapacityReport.Format {
            get throws {
                if let format {
                    guard let known = CapacityReport.Format(rawValue: format) else {
                        throw ValidationError("--format: must be one of html, json, md")
                    }
                    return known
                }
                let ext = (out.map { ($0 as NSString).pathExtension.lowercased() }) ?? ""
                return CapacityReport.Format(rawValue: ext == "markdown" ? "md" : ext) ?? .md
            }
        }

        func validate() throws {
            _ = try resolvedFormat
            do { _ = try CapacityReportOptions.parse(since: since, horizon: horizon, shapes: shape) } catch {
                throw ValidationError("--\(error.field): \(error.message)")
            }
            if dataDir != nil, scheduler != nil { throw ValidationError("pass --scheduler or --data-dir, not both") }
        }

        func run() async throws {
            let format = try resolvedFormat
            let text: String
            if let dataDir {
                let options = try CapacityReportOptions.parse(since: since, horizon: horizon, shapes: shape)
                let (snapshot, history) = try await SchedulerServer.snapshot(dataDir: dataDir, configPath: config)
                let report = try await CapacityReport.build(
                    snapshot: snapshot, history: history, options: options, progress: Self.progress())
                text = try report.rendered(format)
            } else {
                let environment = ProcessInfo.processInfo.environment
                guard let address = scheduler ?? environment["CORRAL_ADDR"] else {
                    throw ValidationError("pass --scheduler URL (with the admin token) or --data-dir DIR")
                }
                let token = try TokenFile.token(tokenFile, hint: "the admin token in config.json")
                text = try await SchedulerClient(baseURL: address, token: token, tls: ClientTLS.fromOptions(ca: ca))
                    .capacityReport(
                        since: since, horizon: horizon, format: format.rawValue, shapes: shape)
            }
            guard let out else {
                print(text, terminator: "")
                return
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            FileHandle.standardError.write(Data("wrote the capacity report (\(format.rawValue)) to \(out)\n".utf8))
        }

        /// One updating line on a terminal's stderr while forecasts run; nothing when stderr is not one.
        static func progress() -> CapacityReport.Progress? {
            guard isatty(STDERR_FILENO) == 1 else { return nil }
            return { step, done, total in
                let line = "\r\u{1B}[K\(done)/\(total) \(step)" + (done == total ? "\n" : "")
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
    }
}
