/// Demo: `corral demo` — a scheduler and three agents as separate processes on this machine, a mixed
/// workload across two tenants, live progress, and a summary checked against what each job should show.
import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Reports
import Scheduler
import SchedulerService

public enum Demo {
    public struct Options: Sendable {
        public var binary: String
        public var dataDir: String
        /// A shorter workload (CI).
        public var quick: Bool
        /// Give up waiting for the workload after this long.
        public var deadline: Duration
        /// With `--keep`: after the summary, the cluster stays up (the console's address printed) until this
        /// returns (the command's Ctrl-C).
        public var keep: (@Sendable () async -> Void)?

        public init(
            binary: String, dataDir: String, quick: Bool = false, deadline: Duration = .seconds(180),
            keep: (@Sendable () async -> Void)? = nil
        ) {
            self.binary = binary
            self.dataDir = dataDir
            self.quick = quick
            self.deadline = deadline
            self.keep = keep
        }
    }

    /// Runs the demo, printing progress through `say`; the cluster is stopped before it returns.
    public static func run(_ options: Options, say: @escaping @Sendable (String) -> Void) async throws -> DemoSummary {
        // node-1's bridge turns IPv4 forwarding on; the demo leaves the host as it found it.
        let forwarding = (try? String(contentsOfFile: DemoServices.forwardingPath, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        defer { DemoServices.cleanUp(forwarding: forwarding) }
        return try await LocalCluster.with(
            binary: options.binary, dataDir: options.dataDir, config: DemoWorkload.config(), tls: true
        ) { cluster in
            say("Starting a scheduler and 3 agents (separate processes; data and logs in \(options.dataDir))")
            say("  TLS on: HTTPS with agents' client certificates (mTLS), CA in \(options.dataDir)/tls")
            try cluster.startScheduler()
            for var node in DemoWorkload.nodes {
                node.arguments += DemoServices.arguments(for: node.id)
                try cluster.startAgent(node)
            }
            try await cluster.waitForNodes(DemoWorkload.nodes.count)
            for node in DemoWorkload.nodes {
                let labels = node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: ",")
                say("  \(node.id): \(node.cpu) cores, \(node.memory), labels \(labels)")
            }

            var run = DemoRun(cluster: cluster, started: .now, say: say)
            say("Submitting the workload:")
            for job in DemoWorkload.jobs(quick: options.quick) { try await run.submit(job) }
            try await run.submit(DemoWorkload.overQuota)
            say("Progress:")
            try await run.follow(deadline: options.deadline)
            var summary = try await run.summary(dataDir: options.dataDir)
            let act = try await DemoServices.run(cluster, say: say)
            summary.filesOut = act.result
            summary.service =
                act.serviceAnswer.map { "\(act.serviceAddress ?? "?") answered: \($0)" } ?? act.skipped.map {
                    "skipped: \($0)"
                } ?? "FAIL: no answer (health \(act.serviceHealth ?? "unknown"); see node-1.log)"
            // The service part is judged only where it can run (nftables installed).
            let serviceOK = act.skipped != nil || (act.serviceAnswer?.hasPrefix("hello from") == true)
            summary.ok = summary.ok && act.result?.hasPrefix("primes below 50: 2 3 5 7") == true && serviceOK
            let triggers = try await DemoTriggers.run(cluster, say: say)
            summary.triggers = triggers
            summary.ok = summary.ok && triggers.ok
            if let metrics = try? await cluster.client().metrics() {
                try? metrics.write(toFile: options.dataDir + "/metrics.txt", atomically: true, encoding: .utf8)
            }
            say("Writing the capacity report (forecasting each node's and tenant's usage)")
            let report = try await writeReport(cluster, dataDir: options.dataDir)
            summary.report = options.dataDir + "/capacity-report.html"
            summary.findings = report.findings.map { "\($0.severity.rawValue): \($0.text)" }
            if let keep = options.keep {
                say(summary.text)
                say(consoleText(cluster))
                await keep()
                say("Stopping the cluster")
            }
            return summary
        }
    }
}

extension Demo {
    /// Where the console is and the tokens that sign in to it (`--keep`).
    static func consoleText(_ cluster: LocalCluster) -> String {
        let tenants = cluster.config.tenants.keys.sorted().map { name in
            "    tenant \(name): \(cluster.config.tenants[name]?.token ?? "?")"
        }
        return """
            The cluster stays up until Ctrl-C. Web console: \(cluster.schedulerURLs[0])/ui/
              (HTTPS with the demo's own CA, \(cluster.caFile ?? "none"): trust it or accept the browser's warning)
              Sign in with a token:
                admin: \(cluster.config.adminToken)
            \(tenants.joined(separator: "\n"))
              CLI: CORRAL_ADDR=\(cluster.url) CORRAL_CACERT=\(cluster.caFile ?? "") CORRAL_TOKEN=<token> corral job list
            """
    }

    /// The scheduler's capacity report over the demo's few minutes (a short horizon to match), as
    /// HTML, Markdown and JSON in the data directory.
    static func writeReport(_ cluster: LocalCluster, dataDir: String) async throws -> CapacityReport {
        let json = try await cluster.client().capacityReport(since: "1h", horizon: "2m", format: "json", shapes: [])
        let report = try JSONDecoder().decode(CapacityReport.self, from: Data(json.utf8))
        try json.write(toFile: dataDir + "/capacity-report.json", atomically: true, encoding: .utf8)
        try report.html().write(toFile: dataDir + "/capacity-report.html", atomically: true, encoding: .utf8)
        try report.markdown().write(toFile: dataDir + "/capacity-report.md", atomically: true, encoding: .utf8)
        return report
    }
}

/// What the demo saw, job by job, and whether each job behaved as it should.
public struct DemoSummary: Sendable, Codable {
    public struct Job: Sendable, Codable {
        public var name: String
        public var tenant: String
        public var id: String?
        public var what: String
        public var expected: String
        public var state: String
        /// Why the job waited, when it did (quota or capacity).
        public var waitedFor: String?
        public var rejection: String?
        public var tasks: [Task]
        public var ok: Bool
    }

    public struct Task: Sendable, Codable {
        public var index: Int
        public var state: String
        public var attempts: Int
        public var node: String?
        public var exitCode: Int32?
        public var error: String?
        public var oomKilled: Bool
        public var memoryPeakBytes: UInt64?
    }

    public var jobs: [Job]
    /// Allocations placed on each node during the run.
    public var placements: [String: Int]
    public var lost: Int
    public var seconds: Double
    public var dataDir: String
    public var ok: Bool
    /// The capacity report written at the end (HTML; .md and .json beside it), and its findings.
    public var report: String?
    public var findings: [String] = []
    /// The batch job's result file as `corral alloc fs` read it back.
    public var filesOut: String?
    /// What the service answered on its published port (or why it was skipped).
    public var service: String?
    /// The schedule's runs, the workflow's order, the checkpointed counter's move.
    var triggers: DemoTriggers.Outcome?
}

extension DemoSummary {
    /// The summary for a terminal.
    public var text: String {
        var lines = ["", "Summary (\(String(format: "%.1f", seconds)) s):"]
        for job in jobs {
            var line = "  \(job.ok ? "ok  " : "FAIL") \(pad(job.name, 12)) \(pad(job.tenant, 9)) \(pad(job.state, 10))"
            if let rejection = job.rejection { line += " \(rejection)" }
            let attempts = job.tasks.map(\.attempts).reduce(0, +)
            if !job.tasks.isEmpty { line += " \(job.tasks.count) task(s), \(attempts) attempt(s)" }
            let nodes = Set(job.tasks.compactMap(\.node)).sorted()
            if !nodes.isEmpty { line += " on \(nodes.joined(separator: ", "))" }
            if job.tasks.contains(where: \.oomKilled) { line += "; OOM-killed at its memory limit" }
            if let waited = job.waitedFor { line += "; \(waited)" }
            if job.state == "failed", let error = job.tasks.compactMap(\.error).first,
                !job.tasks.contains(where: \.oomKilled)
            {
                line += "; \(error)"
            }
            lines.append(line)
        }
        let spread = placements.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("  placements per node: \(spread); lost tasks: \(lost)")
        if let filesOut { lines.append("  files out (corral alloc fs): \(filesOut)") }
        if let service { lines.append("  service on a published port: \(service)") }
        if let triggers {
            lines.append(
                "  \(triggers.ok ? "ok  " : "FAIL") triggers: schedule \(triggers.fires.count) runs; workflow "
                    + triggers.workflowOrder.joined(separator: " -> ")
                    + "; counter lost on \(triggers.lostNode ?? "?") at step \(triggers.lostAt ?? 0), resumed on "
                    + "\(triggers.resumedNode ?? "?") at step \(triggers.resumedAt ?? 0) (\(triggers.counterState ?? "?"))"
            )
        }
        lines.append("")
        lines.append(
            "Data: \(dataDir) (scheduler state in scheduler/state.sqlite, usage history in scheduler/history.sqlite,")
        lines.append(
            "      task logs in node-*/logs/<allocation>/stdout|stderr, process logs in *.log, metrics in metrics.txt)")
        if let report {
            lines.append("")
            lines.append("Capacity report: \(report) (also capacity-report.md and .json beside it)")
            lines += findings.prefix(5).map { "  \($0)" }
        }
        lines.append("")
        lines.append(
            ok ? "Every job did what it is in the demo for." : "Some jobs did not behave as expected (marked FAIL).")
        return lines.joined(separator: "\n")
    }
}
