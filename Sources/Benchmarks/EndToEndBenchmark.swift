import Cgroups
import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Sandbox
import Scheduler
import SchedulerService
import SystemSupport

/// `corral bench e2e`: short tasks through a real scheduler and agents, each a `corral` process on
/// 127.0.0.1, every task a full sandbox (cgroup, namespaces, exec, teardown) running `/bin/true`.
///
/// Two phases. Throughput: all tasks are submitted as jobs of `batch` tasks as fast as the scheduler
/// acknowledges them, and the rate is completed tasks over the time from the first submission until
/// the scheduler shows every job ended. Latency: on the idle cluster, single-task jobs are submitted
/// one every `pace`; each one's submit->running is from just before the client sent it until the
/// scheduler recorded the agent's word that it runs (`startedAt`), one clock, one machine.
///
/// Before the cluster starts, the same tasks run straight through a `Sandbox` in this process
/// (`SandboxCeiling`): what this machine's sandboxes allow without scheduler or agents. The throughput
/// is reported as a ratio to that ceiling as well.
public struct EndToEndBenchmark: Sendable {
    public var agents: Int
    public var tasks: Int
    public var batch: Int
    public var latencySamples: Int
    public var pace: Duration
    public var binary: String
    public var dataDir: String
    /// Launches in flight while measuring the sandbox ceiling; 0 skips it.
    public var ceilingConcurrency: Int
    public var store: BenchStore

    public init(
        agents: Int, tasks: Int, batch: Int = 100, latencySamples: Int = 200, pace: Duration = .milliseconds(20),
        binary: String, dataDir: String, ceilingConcurrency: Int = 16, store: BenchStore = .sqlite
    ) {
        self.store = store
        self.ceilingConcurrency = ceilingConcurrency
        self.agents = agents
        self.tasks = tasks
        self.batch = batch
        self.latencySamples = latencySamples
        self.pace = pace
        self.binary = binary
        self.dataDir = dataDir
    }

    public struct Report: Sendable, Encodable {
        public var store: BenchStore
        public var agents: Int
        public var tasks: Int
        public var completed: Int
        public var failed: Int
        public var lost: Int
        /// Tasks that needed more than one attempt.
        public var retried: Int
        public var durationSeconds: Double
        public var tasksPerSecond: Double
        public var latencySamples: Int
        public var submitToRunningP50Ms: Double
        public var submitToRunningP99Ms: Double
        public var submitToRunningMaxMs: Double
        /// CPU time of the throughput phase per task, by where it went.
        public var cpuMsPerTask: CPUPerTask
        /// The same tasks through a `Sandbox` alone, and `tasksPerSecond` over its rate (nil when skipped).
        public var sandboxCeiling: SandboxCeiling.Report?
        public var ratioToCeiling: Double?
    }

    static let resources = #""resources": {"cpu": "10m", "memory": "8Mi", "pids": 8}"#

    public func run(sandbox: Sandbox?, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        var ceiling: SandboxCeiling.Report?
        if let sandbox, ceilingConcurrency > 0 {
            progress("sandbox ceiling: \(tasks) tasks through the Sandbox alone, \(ceilingConcurrency) at a time")
            ceiling = try await SandboxCeiling(tasks: tasks, concurrency: ceilingConcurrency).run(sandbox: sandbox)
            // The kernel tears the namespaces down in its workers for a while after the last task: the
            // cluster phase should not share the CPU with that.
            if !(await HostCPU.waitUntilQuiet()) { progress("the host did not get quiet within 30 s; going on") }
        }
        var report = try await runCluster(progress: progress)
        report.sandboxCeiling = ceiling
        report.ratioToCeiling = ceiling.map { report.tasksPerSecond / $0.tasksPerSecond }
        return report
    }

    func runCluster(progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let config = SchedulerConfig.benchmark(heartbeatIntervalSeconds: 1)
        return try await store.with(dataDir: dataDir) { ha, _ in
            try await runCluster(config: config, ha: ha, progress: progress)
        }
    }

    func runCluster(config: SchedulerConfig, ha: LocalCluster.HA?, progress: @escaping @Sendable (String) -> Void)
        async throws -> Report
    {
        try await LocalCluster.with(binary: binary, dataDir: dataDir, config: config, ha: ha) { cluster in
            try cluster.startScheduler()
            for n in 1...agents { try cluster.startAgent(LocalCluster.Node(id: "node-\(n)", cpu: 2, memory: "4Gi")) }
            try await cluster.waitForNodes(agents)
            let client = cluster.client(token: config.benchToken)
            progress("\(agents) agents ready; submitting \(tasks) tasks in jobs of \(batch)")

            // Throughput.
            let agentPIDs = (1...agents).compactMap { cluster.agentPID("node-\($0)") }
            let startCPU = CPUPerTask.Mark(scheduler: cluster.schedulerPID, agents: agentPIDs)
            let start = Date().timeIntervalSince1970
            var jobs: [String] = []
            var remaining = tasks
            while remaining > 0 {
                let count = min(batch, remaining)
                let spec =
                    #"{"name": "short", "tenant": "bench", "count": \#(count), "command": ["/bin/true"], "#
                    + Self.resources + "}"
                jobs.append(try await client.submit(Data(spec.utf8)).id.rawValue)
                remaining -= count
            }
            // Jobs end in about the order they were submitted, so each poll asks only about the oldest job
            // not yet seen ended (and the next ones, while they have ended too): listing every job every
            // 50 ms would load the client and the scheduler, the very thing measured.
            var ended = 0
            while ended < jobs.count {
                try await Task.sleep(for: .milliseconds(50))
                while ended < jobs.count, try await client.job(jobs[ended]).state.isTerminal {
                    ended += 1
                }
            }
            let duration = Date().timeIntervalSince1970 - start
            let cpu = CPUPerTask(
                from: startCPU, to: CPUPerTask.Mark(scheduler: cluster.schedulerPID, agents: agentPIDs), tasks: tasks)
            var counts: [TaskState: Int] = [:]
            var retried = 0
            for job in jobs {
                for task in try await client.tasks(job) {
                    counts[task.state, default: 0] += 1
                    if task.attempt > 1 { retried += 1 }
                }
            }
            let completed = counts[.completed] ?? 0
            progress(String(format: "%d tasks ended in %.2f s; measuring submit->running", tasks, duration))

            // Latency on the idle cluster.
            var sent: [(job: String, at: Double)] = []
            for _ in 0..<latencySamples {
                let spec = #"{"name": "probe", "tenant": "bench", "command": ["/bin/true"], "# + Self.resources + "}"
                let at = Date().timeIntervalSince1970
                sent.append((try await client.submit(Data(spec.utf8)).id.rawValue, at))
                try await Task.sleep(for: pace)
            }
            var latency = Samples()
            for probe in sent {
                var started: Double?
                let deadline = Date().addingTimeInterval(30)
                while started == nil && Date() < deadline {
                    started = try await client.tasks(probe.job).first?.startedAt
                    if started == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                guard let started else { throw LocalClusterError("job \(probe.job) never reported running") }
                latency.add(milliseconds: (started - probe.at) * 1000)
            }
            return Report(
                store: store,
                agents: agents, tasks: tasks, completed: completed, failed: counts[.failed] ?? 0,
                lost: counts[.lost] ?? 0, retried: retried, durationSeconds: duration,
                tasksPerSecond: Double(completed) / duration, latencySamples: latencySamples,
                submitToRunningP50Ms: latency.percentile(50), submitToRunningP99Ms: latency.percentile(99),
                submitToRunningMaxMs: latency.values.max() ?? .nan, cpuMsPerTask: cpu, sandboxCeiling: nil,
                ratioToCeiling: nil)
        }
    }
}
