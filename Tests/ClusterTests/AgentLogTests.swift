import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Task logs on a real agent: kept to `--log-limit` as they are written, followed across a trim by
/// `corral logs --follow`, a fast writer bounded without the agent growing, and logs removed a day after
/// they were last written.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct AgentLogTests {
    static func lines(_ range: ClosedRange<Int>) -> String {
        range.map { String(format: "line %05d\n", $0) }.joined()
    }

    /// Three bursts of output, two seconds apart: 5,500 bytes, 7,700 bytes, 3,300 bytes against an 8 KiB
    /// limit: past twice the limit with the third, the oldest 8 KiB are punched out. The follower must print
    /// every line once, in order, and what the agent serves from the start is the newest output.
    @Test func outputIsTrimmedAtTheLogLimitAndFollowingReadsAcrossTheTrim() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-logs")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            var node = LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi")
            node.arguments = ["--log-limit", "8Ki"]
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

            let kept = try await cluster.client(token: config.tenants["t"]!.token).logs(
                allocation: try #require(AllocationID(allocation.description)), stream: "stdout", offset: 0)
            let text = String(decoding: kept.bytes, as: UTF8.self)
            #expect(kept.next == UInt64(expected.utf8.count), "offsets are positions in the stream")
            #expect(
                text.utf8.count >= 8192 && text.utf8.count < expected.utf8.count,
                "trimmed past twice the limit: \(text.utf8.count) B kept")
            #expect(expected.hasSuffix(text), "the file holds the newest output, nothing lost in between")
        }
    }

    /// The agent's resident memory, from /proc.
    static func rss(_ pid: pid_t) -> UInt64 {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (UInt64(line.split(separator: " ").dropFirst().first ?? "") ?? 0) << 10
    }

    /// The finding: a task writing 300 MB under an 8 MiB limit left a 300 MB file, and rotating it took the
    /// agent from 44 to 337 MB. A task now prints 1,500 MiB as fast as it can: sampled every 50 ms, its log
    /// never holds more than 3x the limit on disk, and the agent's memory grows by less than 16 MiB.
    @Test func aTaskWritingAsFastAsItCanStaysInBoundAndTheAgentDoesNotGrow() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-log-flood")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi"))  // --log-limit 8Mi
            try await cluster.waitForNodes(1)
            let agent = try #require(cluster.agentPID("n1"))
            let before = Self.rss(agent)
            let job = try await ClusterTests.submit(
                cluster,
                """
                {"name": "flood", "tenant": "t", "resources": {"cpu": 1, "memory": "64Mi"},
                 "command": ["sh", "-c", "yes 0123456789abcdef | head -c 1500M"]}
                """)
            let running = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.allocation != nil }
            let allocation = try #require(running.first?.allocation)
            let file = cluster.nodeDataDir("n1") + "/logs/\(allocation)/stdout"
            var largest: UInt64 = 0
            var grown: UInt64 = 0
            var samples = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                var status = stat()
                if stat(file, &status) == 0 {
                    largest = max(largest, UInt64(status.st_blocks) * 512)
                    samples += 1
                    if status.st_size == 1500 << 20 { break }
                }
                let now = Self.rss(agent)
                grown = max(grown, now > before ? now - before : 0)
                try await Task.sleep(for: .milliseconds(50))
            }
            var status = stat()
            #expect(stat(file, &status) == 0 && status.st_size == 1500 << 20, "the task wrote all of it")
            #expect(largest <= 3 * (8 << 20), "\(largest >> 20) MiB on disk at most, over \(samples) samples")
            #expect(grown < 16 << 20, "the agent grew by \(grown >> 20) MiB")
            _ = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .completed }
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
