import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Reclamation on a real agent: a CPU hog outside Corral's tasks (in a cgroup of its own) makes the node's
/// tasks stall; the agent first makes the reclaimable task yield (lowest CPU weight) and then evicts it,
/// which the scheduler places again without using up its one attempt, while the guaranteed task keeps
/// running untouched.
@Suite(
    .serialized, .enabled(if: Preconditions.met(.root, .cgroups, .psi)), .timeLimit(.minutes(3)))
struct ReclaimClusterTests {
    @Test("a CPU hog makes the agent throttle then evict the reclaimable task; the guaranteed one keeps running")
    func hogEvictsReclaimable() async throws {
        try #require(
            Preconditions.missing(.root, .cgroups, .psi).isEmpty,
            "\(Preconditions.missing(.root, .cgroups, .psi))")
        let directory = TemporaryDirectory("corral-reclaim")
        var config = ClusterTests.config()
        config.reclamation = .init(interval: 80, ceiling: 0.95, cooldownSeconds: 5)
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            var node = LocalCluster.Node(id: "a", cpu: 2, memory: "1Gi")
            node.arguments = ["--reclaim-pressure", "0.2", "--reclaim-evict-after", "3s"]
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)

            let guaranteed = try await ClusterTests.submit(
                cluster,
                #"{"name": "steady", "tenant": "t", "resources": {"cpu": 0.2, "memory": "16Mi"},"#
                    + #" "retry": {"maxAttempts": 1}, "command": ["sh", "-c", "while sleep 0.2; do :; done"]}"#)
            _ = try await ClusterTests.waitForTasks(cluster, guaranteed) { $0.first?.state == .running }
            let batch = try await ClusterTests.submit(
                cluster,
                #"{"name": "batch", "tenant": "t", "reclaimable": true, "resources": {"cpu": 1, "memory": "32Mi"},"#
                    + #" "retry": {"maxAttempts": 1}, "command": ["sh", "-c", "while :; do :; done"]}"#)
            let running = try await ClusterTests.waitForTasks(cluster, batch) { $0.first?.state == .running }
            let first = try #require(running.first?.allocation)
            let weightFile = Self.weightFile(parent: cluster.cgroupParent("a"), allocation: first.description)
            #expect(Self.read(weightFile) == Self.defaultWeight, "not yielding before the hog: \(weightFile)")

            let address = try #require(try await cluster.client().nodes().first?.address)
            let agent = SchedulerClient(baseURL: address, token: "")
            // The hog: as many busy loops as the host has cores, in a cgroup2 group of its own.
            let hog = try CPUHog(cores: ProcessInfo.processInfo.activeProcessorCount)
            defer { hog.stop() }

            var sawYield = false
            let deadline = ContinuousClock.now + .seconds(60)
            var evicted: TaskView?
            while ContinuousClock.now < deadline {
                if Self.read(weightFile) == Self.yieldedWeight { sawYield = true }
                let tasks = try await cluster.client().tasks(batch)
                if let task = tasks.first, task.lastError?.hasPrefix("evicted: node pressure") == true {
                    evicted = task
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let page = try await agent.metrics()
            let figures = page.split(separator: "\n").filter {
                $0.hasPrefix("corral_agent_node_pressure") || $0.hasPrefix("corral_agent_reclaimed")
            }
            let task = try #require(evicted, "the reclaimable task was not evicted within 60 s of the hog: \(figures)")
            #expect(sawYield, "its CPU weight went to the lowest before the eviction (\(weightFile))")
            #expect(task.state == .pending && task.attempt == 1, "back in the queue: \(task)")
            // Placed again (when the node's forecast leaves room) though the job allows one attempt.
            let again = try await ClusterTests.waitForTasks(cluster, batch, timeout: .seconds(60)) {
                ($0.first?.attempt ?? 0) >= 2
            }
            #expect(again.first?.state != .failed, "\(String(describing: again.first))")
            let scrape = try PrometheusScrape(page)
            #expect((scrape["corral_agent_reclaimed_total", ["action": "yield"]] ?? 0) >= 1)
            #expect((scrape["corral_agent_reclaimed_total", ["action": "evict"]] ?? 0) >= 1)

            let steady = try await cluster.client().tasks(guaranteed)
            #expect(steady.first?.state == .running && steady.first?.attempt == 1, "\(String(describing: steady))")
            #expect(steady.first?.lastError == nil)
            hog.stop()
            for job in [batch, guaranteed] {
                _ = try await cluster.client().cancel(job)
                _ = try await ClusterTests.waitForTasks(cluster, job) { $0.allSatisfy { $0.state.isTerminal } }
            }
        }
    }

    static let defaultWeight: UInt64 = 100
    static let yieldedWeight: UInt64 = 1

    /// The task's CPU weight file: v2 `cpu.weight`, or v1 `cpu.shares` on a hybrid or v1 host.
    static func weightFile(parent: String, allocation: String) -> String {
        FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
            ? "/sys/fs/cgroup/\(parent)/\(allocation)/cpu.weight"
            : "/sys/fs/cgroup/cpu/\(parent)/\(allocation)/cpu.shares"
    }

    /// The weight as v2 spells it (v1 shares 1024 -> 100, 2 -> 1).
    static func read(_ file: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return file.hasSuffix("cpu.shares") ? max(1, value * 100 / 1024) : value
    }
}

extension Requirement {
    /// Pressure stall information, which the agent's relief reads.
    static let psi = Requirement.file("/proc/pressure/cpu", hint: "a kernel with PSI (CONFIG_PSI, not psi=0)")
}

/// Busy loops outside Corral, each moved into one cgroup2 group of the test's own; stopped by their PIDs
/// and the group removed.
final class CPUHog: @unchecked Sendable {
    let group: String
    var processes: [Process] = []

    init(cores: Int) throws {
        let root =
            FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
            ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified"
        group = "\(root)/corral-test-hog-\(getpid())"
        try FileManager.default.createDirectory(atPath: group, withIntermediateDirectories: false)
        for _ in 0..<max(cores, 1) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "echo $$ > \(group)/cgroup.procs && while :; do :; done"]
            try process.run()
            processes.append(process)
        }
    }

    func stop() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        processes = []
        rmdir(group)
    }
}
