import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import TestSupport
import Testing

/// Issue 20, item 7: an agent whose data directory is full says so in its heartbeat; the scheduler places
/// nothing on the node meanwhile, and the job is not lost.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct DiskFullTests {
    static func fill(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 7, count: 65536)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    static func node(_ cluster: LocalCluster) async throws -> NodeStatus? {
        try await cluster.client().nodes().first { $0.id == "n1" }
    }

    @Test func aFullDataDirectoryMakesTheNodeDiskFullUntilThereIsRoomAgain() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-disk-full")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            let data = cluster.nodeDataDir("n1")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let mounted = runCommandStatus("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", data])
            try #require(mounted, "cannot mount a 4 MiB tmpfs at \(data)")
            defer { _ = runCommandStatus("/bin/umount", ["-l", data]) }
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "1Gi"))
            try await cluster.waitForNodes(1)
            Self.fill(data + "/filler")

            let job = try await ClusterTests.submit(
                cluster,
                #"{"name": "full", "tenant": "t", "command": ["/bin/true"], "retry": {"maxAttempts": 5, "initialDelay": "1s"}}"#
            )
            var conditions: [String]?
            for _ in 0..<100 where conditions == nil {
                conditions = try await Self.node(cluster)?.conditions
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(conditions == ["disk-full"], "the node reports its full disk")
            // Meanwhile nothing more is placed there: the job waits, it is not lost.
            try await Task.sleep(for: .seconds(3))
            let waiting = try await cluster.client().tasks(job)
            #expect(waiting.first.map { [.pending, .failed].contains($0.state) } == true, "\(waiting)")

            unlink(data + "/filler")
            var cleared = false
            for _ in 0..<100 where !cleared {
                cleared = try await Self.node(cluster)?.conditions == nil
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(cleared, "the condition clears once there is room")
            let done = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .completed }
            #expect(done.first?.state == .completed, "the job ran once the node had room")
        }
    }
}

/// Runs a command; whether it exited 0.
func runCommandStatus(_ executable: String, _ arguments: [String]) -> Bool {
    (try? runCommand(executable, arguments))?.status == 0
}
