import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Reports
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// The whole path with real processes: a scheduler and agents as separate `corral` processes (the
/// built binary), real sandboxes and cgroups; agents and the scheduler are killed and restarted.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(5)))
struct ClusterTests {
    static let binary = corralBinary

    func requirements() throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.binary),
            "\(Self.binary) missing: run `swift build` before the tests")
    }

    static func config() -> SchedulerConfig {
        var config = SchedulerConfig(
            adminToken: SchedulerConfig.randomToken(), agentToken: SchedulerConfig.randomToken(),
            tenants: ["t": .init(token: SchedulerConfig.randomToken())])
        config.heartbeatIntervalSeconds = 1
        return config
    }

    static func submit(_ cluster: LocalCluster, _ spec: String) async throws -> String {
        try await cluster.client(token: cluster.config.tenants["t"]!.token).submit(Data(spec.utf8)).id.rawValue
    }

    /// Polls the job's tasks until `done` holds for them, or fails after `timeout`.
    static func waitForTasks(
        _ cluster: LocalCluster, _ job: String, timeout: Duration = .seconds(60), _ done: ([TaskView]) -> Bool
    ) async throws -> [TaskView] {
        let deadline = ContinuousClock.now + timeout
        var tasks: [TaskView] = []
        while ContinuousClock.now < deadline {
            if let current = try? await cluster.client().tasks(job) {
                tasks = current
                if done(tasks) { return tasks }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("tasks of \(job) not done after \(timeout): \(tasks.map { "\($0.index):\($0.state.rawValue)" })")
        return tasks
    }

    @Test("corral demo --quick places, limits, retries and reports every job as the summary says")
    func demo() throws {
        try requirements()
        let missing = Preconditions.missing(
            .binary("nft", package: "nftables"), .file("/usr/bin/python3", hint: "apt-get install python3"))
        try #require(missing.isEmpty, "the demo's service needs \(missing)")
        let directory = TemporaryDirectory("corral-demo")
        let result = try runCorral(
            ["demo", "--quick", "--json", "--data-dir", directory.path + "/demo", "--timeout", "120"], timeout: 400)
        let output = result.stdout
        #expect(!result.timedOut, "corral demo hung: \(output)\n\(result.stderr.suffix(4000))")
        #expect(result.status == 0, "\(output)")
        let start = try #require(output.range(of: "\n{\n"), "no JSON summary in: \(output)")
        let summary = try JSONDecoder().decode(DemoSummary.self, from: Data(output[start.lowerBound...].utf8))
        #expect(summary.ok)
        #expect(summary.lost == 0)
        let jobs = Dictionary(uniqueKeysWithValues: summary.jobs.map { ($0.name, $0) })
        #expect(jobs["memory-hog"]?.tasks.first?.oomKilled == true)
        #expect(jobs["flaky"]?.tasks.first?.attempts == 2)
        #expect(jobs["flaky"]?.state == "completed")
        #expect(jobs["report"]?.waitedFor?.contains("quota") == true)
        #expect(jobs["too-big"]?.rejection?.hasPrefix("422 over_quota") == true)
        #expect(jobs["fork-bomb"]?.state == "failed")
        #expect(summary.placements.count == 3, "placements: \(summary.placements)")
        #expect(summary.filesOut == "primes below 50: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47")
        // CI installs nftables: the service must have answered on its published port.
        #expect(summary.service?.contains("answered: hello from") == true, "\(String(describing: summary.service))")
        #expect(output.contains("Every job did what it is in the demo for."))
        try checkReports(summary, dataDir: directory.path + "/demo")
    }

    /// The demo ends by writing a capacity report; `corral report capacity --data-dir` reads the same
    /// data directory once the cluster is gone.
    func checkReports(_ summary: DemoSummary, dataDir: String) throws {
        let html = try String(contentsOfFile: try #require(summary.report, "no report in the summary"), encoding: .utf8)
        #expect(html.contains("<svg class=\"chart\""))
        #expect(!summary.findings.isEmpty)
        let written = try JSONDecoder().decode(
            CapacityReport.self, from: Data(contentsOf: URL(fileURLWithPath: dataDir + "/capacity-report.json")))
        #expect(written.nodes.map(\.id) == ["node-1", "node-2", "node-3"])
        #expect(Set(written.tenants.map(\.tenant)) == ["batch", "research"])
        #expect(written.cluster.resources[0].used?.max ?? 0 > 0, "the demo's CPU use is in the history")
        // ramp climbs for 20 s under its 0.5-core cpu.max: its busiest minute is above zero and at most the limit.
        let ramp = try #require(written.rightSizing.first { $0.name == "ramp" }, "\(written.rightSizing)")
        #expect(ramp.p95CPU > 0.05 && ramp.p95CPU < 0.56, "ramp's p95 CPU \(ramp.p95CPU) cores")
        let out = dataDir + "/offline.json"
        let result = try runCommand(
            Self.binary,
            [
                "report", "capacity", "--data-dir", dataDir + "/scheduler", "--since", "1h", "--horizon", "2m", "--out",
                out,
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let offline = try JSONDecoder().decode(CapacityReport.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(offline.nodes.map(\.id) == written.nodes.map(\.id))
        #expect(offline.tenants.map(\.tenant) == written.tenants.map(\.tenant))
        let refused = try runCommand(Self.binary, ["report", "capacity", "--data-dir", dataDir + "/nowhere"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("state.sqlite"), "\(refused.stderr)")
    }

    @Test("an agent SIGKILLed with 50 running tasks re-adopts all of them and reports their true exit codes")
    func readoption() async throws {
        try requirements()
        let directory = TemporaryDirectory("corral-adopt")
        try await LocalCluster.with(
            binary: Self.binary, dataDir: directory.path, config: Self.config(), failOnLeftovers: true
        ) { cluster in
            let node = LocalCluster.Node(id: "n1", cpu: 4, memory: "4Gi")
            try cluster.startScheduler()
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)
            let job = try await Self.submit(
                cluster,
                """
                {"name": "sleepers", "tenant": "t", "count": 50, "retry": {"maxAttempts": 1},
                 "resources": {"cpu": 0.05, "memory": "16Mi"},
                 "command": ["sh", "-c", "echo started; sleep $((15 + CORRAL_TASK_INDEX % 3)); exit $((CORRAL_TASK_INDEX % 7))"]}
                """)
            _ = try await Self.waitForTasks(cluster, job) { $0.count == 50 && $0.allSatisfy { $0.state == .running } }
            let allRunning = ContinuousClock.now

            cluster.signalAgent("n1", SIGKILL)
            try await Task.sleep(for: .seconds(2))
            try cluster.startAgent(node)
            // Every task sleeps at least 15 s after it printed: all of them are still running when the
            // agent is back, so every one must be re-adopted (none may be judged ended meanwhile).
            try #require(
                ContinuousClock.now - allRunning < .seconds(8), "the outage outlasted the tasks' guaranteed sleep")

            let tasks = try await Self.waitForTasks(cluster, job) {
                $0.count == 50 && $0.allSatisfy(\.state.isTerminal)
            }
            for task in tasks {
                let code = Int32(task.index % 7)
                #expect(task.attempt == 1, "task \(task.index) ran \(task.attempt) times")
                #expect(task.exitCode == code, "task \(task.index): exit \(String(describing: task.exitCode))")
                #expect(task.state == (code == 0 ? .completed : .failed), "task \(task.index): \(task.state)")
                let stdout = try String(
                    contentsOfFile: cluster.nodeDataDir("n1") + "/logs/\(job).\(task.index).1/stdout", encoding: .utf8)
                #expect(stdout == "started\n", "task \(task.index) output: \(stdout)")
            }
            let log = try String(contentsOfFile: directory.path + "/n1.log", encoding: .utf8)
            let adopted = log.components(separatedBy: "re-adopted a running task").count - 1
            let endedMeanwhile = log.components(separatedBy: "a task ended while the agent was down").count - 1
            #expect(adopted == 50 && endedMeanwhile == 0, "adopted \(adopted), ended while down \(endedMeanwhile)")
        }
    }

    /// Hummingbird's graceful shutdown waits for requests in flight; the agent's long-poll (20 s) is one of
    /// them, so SIGTERM must answer it for the scheduler to stop promptly.
    @Test("a scheduler SIGTERMed while an agent's long-poll waits answers it and exits at once with status 0")
    func schedulerTerminatesPromptly() async throws {
        try requirements()
        let directory = TemporaryDirectory("corral-sigterm")
        try await LocalCluster.with(
            binary: Self.binary, dataDir: directory.path, config: Self.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1"))
            try await cluster.waitForNodes(1)
            // The handshake: the scheduler's own gauge says the agent's poll is waiting.
            var metrics = ""
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline, !metrics.contains("\ncorral_open_long_polls 1") {
                metrics = (try? await cluster.client().metrics()) ?? ""
                if !metrics.contains("\ncorral_open_long_polls 1") { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(metrics.contains("\ncorral_open_long_polls 1"), "no long-poll open: \(metrics)")
            let start = ContinuousClock.now
            let ended = try #require(cluster.signalScheduler(SIGTERM))
            let took = ContinuousClock.now - start
            #expect(ended.reason == .exit && ended.status == 0, "\(ended)")
            #expect(took < .seconds(5), "the open long-poll held the shutdown for \(took)")
            let log = try String(contentsOfFile: directory.path + "/scheduler.log", encoding: .utf8)
            #expect(log.contains("answered=1"), "the shutdown answered the agent's poll: \(log.suffix(600))")
        }
    }

    @Test("a scheduler SIGKILLed mid-run loses nothing and runs no task twice")
    func schedulerRestart() async throws {
        try requirements()
        let directory = TemporaryDirectory("corral-restart")
        try await LocalCluster.with(
            binary: Self.binary, dataDir: directory.path, config: Self.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi"))
            try await cluster.waitForNodes(1)
            let running = try await Self.submit(
                cluster,
                """
                {"name": "long", "tenant": "t", "count": 10, "resources": {"cpu": 0.1, "memory": "16Mi"},
                 "command": ["sh", "-c", "echo once; sleep 3"]}
                """)
            _ = try await Self.waitForTasks(cluster, running) { $0.allSatisfy { $0.state == .running } }
            let acknowledged = try await Self.submit(
                cluster,
                """
                {"name": "late", "tenant": "t", "count": 5, "resources": {"cpu": 0.1, "memory": "16Mi"},
                 "command": ["sh", "-c", "echo once"]}
                """)
            cluster.signalScheduler(SIGKILL)
            try await Task.sleep(for: .seconds(1))
            try cluster.startScheduler()

            for job in [running, acknowledged] {
                let tasks = try await Self.waitForTasks(cluster, job) { $0.allSatisfy { $0.state == .completed } }
                #expect(tasks.count == (job == running ? 10 : 5))
                for task in tasks {
                    #expect(task.attempt == 1, "\(job) task \(task.index) ran \(task.attempt) times")
                    let stdout = try String(
                        contentsOfFile: cluster.nodeDataDir("n1") + "/logs/\(job).\(task.index).1/stdout",
                        encoding: .utf8)
                    #expect(stdout == "once\n")
                }
            }
        }
    }
}
