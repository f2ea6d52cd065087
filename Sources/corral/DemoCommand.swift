import ArgumentParser
import Demo
import Foundation
import UnixSignals

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a scheduler and 3 agents on this machine, run a mixed workload, and sum up what happened.",
        discussion: "Needs root (cgroups, namespaces). Everything it starts is stopped when it ends.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Directory for the cluster's state, logs and metrics (default: a new one under /tmp).")
    var dataDir: String?
    @Flag(help: "A shorter workload (used in CI).") var quick = false
    @Flag(help: "Print the summary as JSON after the progress.") var json = false
    @Option(help: "Seconds to wait for the workload.") var timeout: Double = 180
    @Flag(
        help:
            "Three etcd members, three schedulers and three agents; the leader is SIGKILLed mid-run (needs etcd-server)."
    )
    var ha = false
    @Flag(
        help:
            "After the summary, keep the cluster up and print the web console's address and sign-in tokens; Ctrl-C stops it."
    )
    var keep = false

    func run() async throws {
        _ = global.bootstrap(label: "corral.demo")
        guard geteuid() == 0 else {
            throw ValidationError("corral demo starts agents that create cgroups and namespaces: run it as root")
        }
        let directory = dataDir ?? "/tmp/corral-demo-\(Int(Date().timeIntervalSince1970))"
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let options = Demo.Options(
            binary: binary, dataDir: URL(fileURLWithPath: directory).standardizedFileURL.path, quick: quick,
            deadline: .milliseconds(Int64(timeout * 1000)), keep: keep ? Self.waitForInterrupt : nil)
        let say: @Sendable (String) -> Void = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if keep && ha { throw ValidationError("--keep is for the single-scheduler demo, not --ha") }
        if ha {
            let summary = try await Demo.runHA(options, say: say)
            try show(summary.text, summary, ok: summary.ok)
        } else {
            let summary = try await Demo.run(options, say: say)
            // With --keep the summary was printed before the wait.
            try show(keep ? "" : summary.text, summary, ok: summary.ok)
        }
    }

    /// Returns at the first SIGINT or SIGTERM.
    @Sendable static func waitForInterrupt() async {
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
    }

    func show(_ text: String, _ summary: some Encodable, ok: Bool) throws {
        if !text.isEmpty { print(text) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        }
        if !ok { throw ExitCode(1) }
    }
}
