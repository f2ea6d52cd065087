import Cgroups
import CorralModel
import Foundation
import Sandbox

/// The most short tasks per second this machine's sandboxes allow, with no scheduler and no agent: the
/// end-to-end bench's task (`/bin/true`, 10m CPU, 8 MiB, 8 pids, a new network namespace) launched
/// straight through `Sandbox`, `concurrency` launches in flight, until `tasks` have ended. The cluster
/// loop cannot beat this figure on the same machine; `corral bench e2e` measures it in the same run and
/// reports its throughput as a ratio to it.
///
/// Each task is the full sandbox an agent starts (cgroup directories, limits, namespaces, exec, reap,
/// teardown) without what the agent adds per task: the log files, the allocation record and the status
/// file on its data directory.
public struct SandboxCeiling: Sendable {
    public var tasks: Int
    public var concurrency: Int

    public init(tasks: Int, concurrency: Int) {
        self.tasks = tasks
        self.concurrency = concurrency
    }

    public struct Report: Sendable, Encodable {
        public var tasks: Int
        public var concurrency: Int
        public var durationSeconds: Double
        public var tasksPerSecond: Double
        /// CPU time per task by where it went, as in the cluster's report: `agents` is this process (the
        /// launcher), `scheduler` is 0.
        public var cpuMsPerTask: CPUPerTask
    }

    /// The end-to-end bench's resources (`EndToEndBenchmark.resources`) as the agent maps them.
    static let limits = CgroupLimits(cpuCores: 0.01, memoryMax: 8 << 20, pidsMax: 8)

    public func run(sandbox: Sandbox) async throws -> Report {
        let prefix = "ceiling-\(getpid())"
        let start = ContinuousClock.now
        let mark = CPUPerTask.Mark(scheduler: nil, agents: [getpid()])
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func launchNext() {
                let spec = TaskSpec(id: "\(prefix)-\(next)", argv: ["/bin/true"], limits: Self.limits, network: .none)
                next += 1
                group.addTask {
                    let outcome = try await sandbox.launch(spec).wait()
                    guard outcome.exitCode == 0 else {
                        throw BenchmarkError("sandbox ceiling: \(spec.id) ended \(outcome.summary)")
                    }
                }
            }
            while next < min(concurrency, tasks) { launchNext() }
            while try await group.next() != nil {
                if next < tasks { launchNext() }
            }
        }
        let seconds = (ContinuousClock.now - start).inMilliseconds / 1000
        let cpu = CPUPerTask(from: mark, to: CPUPerTask.Mark(scheduler: nil, agents: [getpid()]), tasks: tasks)
        return Report(
            tasks: tasks, concurrency: concurrency, durationSeconds: seconds, tasksPerSecond: Double(tasks) / seconds,
            cpuMsPerTask: cpu)
    }
}
