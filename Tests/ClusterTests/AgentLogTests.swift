import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Task logs on a real agent: kept to `--log-limit` by rotation, followed across a rotation by
/// `corral logs --follow`, and removed a day after they were last written.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct AgentLogTests {
    static func lines(_ range: ClosedRange<Int>) -> String {
        range.map { String(format: "line %05d\n", $0) }.joined()
    }

    /// Three bursts of output, two seconds apart (each rotation comes with the next heartbeat, within 1 s):
    /// 5,500 bytes, 7,700 bytes, 3,300 bytes against a 4 KiB limit. The follower must print every line once,
    /// in order, and the files left must be the newest output, contiguous, with a rotated `.1`.
    @Test func outputIsRotatedAtTheLogLimitAndFollowingReadsAcrossTheRotation() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-logs")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            var node = LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi")
            node.arguments = ["--log-limit", "4Ki"]
            try cluster.startScheduler()
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)
            // The first burst waits for the follower (started as soon as the task runs) to be reading.
            let job = try await ClusterTests.submit(
                cluster,
                """
                {"name": "chatty", "tenant": "t", "resources": {"cpu": 0.2, "memory": "32Mi"},
                 "command": ["sh", "-c", "sleep 2; seq -f 'line %05g' 1 500; sleep 2; seq -f 'line %05g' 501 1200; sleep 2; seq -f 'line %05g' 1201 1500"]}
                """)
            let running = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .running }
            let allocation = try #require(running.first?.allocation)
            let followed = try runCommand(
                ClusterTests.binary,
                ["logs", "\(allocation)", "--follow", "--interval", "0.1", "--scheduler", cluster.url],
                environment: ["CORRAL_TOKEN": config.tenants["t"]!.token])
            #expect(followed.status == 0, "\(followed.stderr)")
            let expected = Self.lines(1...1500)
            #expect(followed.stdout == expected, "followed \(followed.stdout.count) of \(expected.count) bytes")

            let logs = cluster.nodeDataDir("n1") + "/logs/\(allocation)"
            let rotated = try #require(
                try? String(contentsOfFile: logs + "/stdout.1", encoding: .utf8), "no rotation at a 4 KiB limit")
            let current = try String(contentsOfFile: logs + "/stdout", encoding: .utf8)
            #expect(
                !rotated.isEmpty && rotated.utf8.count > 4096, "rotated once past the limit: \(rotated.utf8.count) B")
            #expect(expected.hasSuffix(rotated + current), "the files hold the newest output, nothing lost between")
        }
    }

    @Test func anAgentRemovesLogDirectoriesOlderThanADayWhenItStarts() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-log-prune")
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            let logs = cluster.nodeDataDir("n1") + "/logs"
            let now = Date()
            for (name, age) in [("old.0.1", 25.0), ("young.0.1", 23.0)] {
                try FileManager.default.createDirectory(atPath: logs + "/" + name, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: logs + "/\(name)/stdout", contents: Data("x\n".utf8))
                try FileManager.default.setAttributes(
                    [.modificationDate: now.addingTimeInterval(-age * 3600)], ofItemAtPath: logs + "/" + name)
            }
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1"))
            try await cluster.waitForNodes(1)  // the agent prunes before it registers
            #expect(!FileManager.default.fileExists(atPath: logs + "/old.0.1"), "25 hours old: removed")
            #expect(FileManager.default.fileExists(atPath: logs + "/young.0.1/stdout"), "23 hours old: kept")
        }
    }
}
