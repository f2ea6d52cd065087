import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Checkpoints with real agents: a task counting to 200 in 0.1 s steps, its counter in its checkpoint
/// directory; its node is lost at about 100 (the agent SIGKILLed and the task's cgroup killed, a machine
/// gone); the next attempt, on the other node, resumes from the checkpoint and finishes.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct CheckpointTests {
    static let counter = """
        d=$CORRAL_CHECKPOINT_DIR; i=$(cat $d/count 2>/dev/null || echo 0); echo resume $i
        while [ $i -lt 200 ]; do i=$((i+1)); echo $i > $d/next && mv $d/next $d/count; echo step $i; sleep 0.1; done
        """

    @Test("a task whose node is lost at step ~100 resumes on another node at >= 90 and runs <= 220 steps in all")
    func resumesFromItsCheckpointOnAnotherNode() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-checkpoint")
        var config = ClusterTests.config()
        config.minimumNodeTTLSeconds = 3
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "first", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(1)
            let spec: [String: Any] = [
                "name": "counter", "tenant": "t", "checkpointInterval": "1s",
                "resources": ["cpu": 0.1, "memory": "16Mi"], "command": ["sh", "-c", Self.counter],
            ]
            let job = try await ClusterTests.submit(
                cluster, String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self))
            let first = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .running }
            let allocation = try #require(first.first?.allocation)
            try cluster.startAgent(LocalCluster.Node(id: "second", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(2)

            // At about step 100 the first node is gone: its agent and its task.
            let firstLog = cluster.nodeDataDir("first") + "/logs/\(job).0.1/stdout"
            let deadline = ContinuousClock.now + .seconds(40)
            while Self.steps(firstLog).last ?? 0 < 100 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            cluster.signalAgent("first", SIGKILL)
            Self.kill(cgroup: cluster.cgroupParent("first") + "/\(allocation)")
            let lostAt = Self.steps(firstLog).last ?? 0
            #expect((95...110).contains(lostAt), "the first attempt was stopped at step \(lostAt)")

            let tasks = try await ClusterTests.waitForTasks(cluster, job, timeout: .seconds(60)) {
                $0.first?.state == .completed
            }
            #expect(tasks.first?.node?.rawValue == "second" && tasks.first?.attempt == 2)
            let secondLog = try String(
                contentsOfFile: cluster.nodeDataDir("second") + "/logs/\(job).0.2/stdout", encoding: .utf8)
            let resumed = Int(secondLog.split(separator: "\n").first { $0.hasPrefix("resume ") }?.dropFirst(7) ?? "")
            #expect((resumed ?? 0) >= 90, "resumed at \(String(describing: resumed)), lost at \(lostAt)")
            let total =
                Self.steps(firstLog).count + secondLog.split(separator: "\n").filter { $0.hasPrefix("step ") }.count
            #expect(total <= 220, "\(total) steps run in all")
            #expect(secondLog.hasSuffix("step 200\n"))
            #expect(tasks.first?.checkpoint?.bytes ?? 0 > 0, "the task's view shows its checkpoint")

            // The machine comes back: its agent finds the task ended and keeps what it left for its retention.
            try cluster.startAgent(LocalCluster.Node(id: "first", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(2)
        }
    }

    @Test("a checkpoint over the job's limit is skipped, and the task's view says why")
    func overTheLimitIsSkipped() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-checkpoint-limit")
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(1)
            let job = try await ClusterTests.submit(
                cluster,
                #"{"name": "big", "tenant": "t", "checkpointLimit": "64Ki", "resources": {"cpu": 0.1, "memory": "32Mi"},"#
                    + #" "command": ["sh", "-c", "head -c 200000 /dev/zero > $CORRAL_CHECKPOINT_DIR/blob"]}"#)
            let tasks = try await ClusterTests.waitForTasks(cluster, job) {
                $0.first?.state == .completed && $0.first?.checkpoint != nil
            }
            let skipped = tasks.first?.checkpoint?.skipped ?? ""
            #expect(skipped.contains("over the job's checkpointLimit of 65536"), "\(skipped)")
        }
    }

    /// The step numbers an attempt printed.
    static func steps(_ path: String) -> [Int] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            $0.hasPrefix("step ") ? Int($0.dropFirst(5)) : nil
        }
    }

    /// Ends every process of a cgroup (the machine the task ran on is gone).
    static func kill(cgroup relative: String) {
        for root in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
            let file = root + "/" + relative + "/cgroup.kill"
            if FileManager.default.fileExists(atPath: file) {
                try? "1".write(toFile: file, atomically: false, encoding: .utf8)
            }
        }
    }
}
