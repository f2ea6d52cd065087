import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService

/// `corral bench agent`: what a `corral agent` process costs while it supervises `tasks` running tasks
/// and reports on a one-second heartbeat (each heartbeat samples every task's cgroup, checks its log
/// sizes and sends every allocation's usage). The figure is the agent's CPU time (all its threads, from
/// /proc/PID/task/*/schedstat, in nanoseconds) over a window, as a percentage of one core. The peer in
/// the same run is the same agent idle (registered, no tasks) over an equal window.
public struct AgentBenchmark: Sendable {
    public var tasks: Int
    public var window: Duration
    public var binary: String
    public var dataDir: String

    public init(tasks: Int, window: Duration = .seconds(10), binary: String, dataDir: String) {
        self.tasks = tasks
        self.window = window
        self.binary = binary
        self.dataDir = dataDir
    }

    public struct Report: Sendable, Encodable {
        public var tasks: Int
        public var windowSeconds: Double
        public var heartbeatIntervalSeconds: Double
        /// Heartbeats the scheduler counted from this agent during the window.
        public var heartbeats: Int
        public var idleCpuPercent: Double
        public var busyCpuPercent: Double
        /// Busy minus idle: the cost of the tasks' supervision, sampling and reporting.
        public var perTasksCpuPercent: Double
    }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let config = SchedulerConfig.benchmark(heartbeatIntervalSeconds: 1)
        return try await LocalCluster.with(binary: binary, dataDir: dataDir, config: config) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "node-1", cpu: 8, memory: "16Gi"))
            try await cluster.waitForNodes(1)
            guard let pid = cluster.agentPID("node-1") else { throw LocalClusterError("the agent is not running") }
            try await Task.sleep(for: .seconds(2))  // past registration and start-up
            progress("idle agent: measuring \(window)")
            let idle = try await Self.cpuPercent(pid: pid, over: window)

            let client = cluster.client(token: config.benchToken)
            let spec = #"""
                {"name": "sleepers", "tenant": "bench", "count": \#(tasks), "command": ["/bin/sleep", "600"],
                 "resources": {"cpu": "5m", "memory": "8Mi", "pids": 4}, "retry": {"maxAttempts": 1}}
                """#
            let job = try await client.submit(Data(spec.utf8)).id.rawValue
            progress("starting \(tasks) sleeping tasks")
            let deadline = Date().addingTimeInterval(300)
            while try await client.tasks(job).filter({ $0.state == .running }).count < tasks {
                guard Date() < deadline else { throw LocalClusterError("\(tasks) tasks not running after 300 s") }
                try await Task.sleep(for: .milliseconds(250))
            }
            try await Task.sleep(for: .seconds(2))  // let the start-up reports drain
            progress("\(tasks) tasks running: measuring \(window)")
            let before = try await Self.heartbeats(cluster)
            let busy = try await Self.cpuPercent(pid: pid, over: window)
            let beats = try await Self.heartbeats(cluster) - before
            _ = try await client.cancel(job)
            return Report(
                tasks: tasks, windowSeconds: window.inSeconds, heartbeatIntervalSeconds: 1, heartbeats: beats,
                idleCpuPercent: idle, busyCpuPercent: busy, perTasksCpuPercent: busy - idle)
        }
    }

    /// CPU time of every thread of `pid` over `window`, as a percentage of one core.
    static func cpuPercent(pid: pid_t, over window: Duration) async throws -> Double {
        let start = (try cpuNanoseconds(pid), ContinuousClock.now)
        try await Task.sleep(for: window)
        let end = (try cpuNanoseconds(pid), ContinuousClock.now)
        return Double(end.0 - start.0) / 1e9 / (end.1 - start.1).inSeconds * 100
    }

    /// Sum of the first field of /proc/PID/task/*/schedstat (time spent on a CPU, ns). A thread that
    /// ended between listing and reading is skipped.
    static func cpuNanoseconds(_ pid: pid_t) throws -> UInt64 {
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return threads.reduce(0) { sum, tid in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8)) ?? ""
            return sum + (text.split(separator: " ").first.flatMap { UInt64($0) } ?? 0)
        }
    }

    /// The scheduler's count of heartbeats received (`corral_heartbeats_total` in /metrics).
    static func heartbeats(_ cluster: LocalCluster) async throws -> Int {
        let metrics = try await cluster.client().metrics()
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("corral_heartbeats_total") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) } ?? 0
    }
}
