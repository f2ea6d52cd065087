import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// `corral node drain` on real agents: a draining node gets no new work, and at the deadline its task is
/// killed there and placed on the other node without using up its one attempt.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct DrainClusterTests {
    @Test("drain with a deadline moves a one-attempt task to the other node, which completes it")
    func drainWithDeadline() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-drain")
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            for id in ["a", "b"] { try cluster.startAgent(LocalCluster.Node(id: id, cpu: 1, memory: "1Gi")) }
            try await cluster.waitForNodes(2)
            func corral(_ arguments: String...) throws -> CommandResult {
                try runCorral(
                    arguments + ["--scheduler", cluster.url],
                    environment: ["CORRAL_TOKEN": cluster.config.adminToken], timeout: 30)
            }

            // Marks its start, runs 6 s, marks its end: a killed attempt never writes "end".
            let job = try await ClusterTests.submit(
                cluster,
                #"{"name": "long", "tenant": "t", "resources": {"cpu": 0.2, "memory": "16Mi"}, "retry": {"maxAttempts": 1},"#
                    + #" "command": ["sh", "-c", "echo start; sleep 6; echo end"]}"#)
            let first = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .running }
            let drained = try #require(first.first?.node?.rawValue)
            let other = drained == "a" ? "b" : "a"

            let drain = try corral("node", "drain", drained, "--deadline", "2s")
            #expect(drain.status == 0, "\(drain.stderr)")
            #expect(drain.stdout.hasPrefix("\(drained) draining (deadline "), "\(drain.stdout)")
            // New work goes to the other node while the drained one still runs its task.
            let fresh = try await ClusterTests.submit(
                cluster,
                #"{"name": "fresh", "tenant": "t", "resources": {"cpu": 0.2, "memory": "16Mi"}, "command": ["true"]}"#)
            let freshTasks = try await ClusterTests.waitForTasks(cluster, fresh) { $0.first?.state == .completed }
            #expect(freshTasks.first?.node?.rawValue == other)

            let moved = try await ClusterTests.waitForTasks(cluster, job, timeout: .seconds(40)) {
                $0.first?.state == .completed
            }
            let task = try #require(moved.first)
            #expect(task.node?.rawValue == other, "placed again on \(other)")
            #expect(task.attempt == 2, "the second run, though the job allows one attempt")
            let killedLog = try String(
                contentsOfFile: cluster.nodeDataDir(drained) + "/logs/\(job).0.1/stdout", encoding: .utf8)
            #expect(killedLog == "start\n", "the first run was killed on \(drained) at the deadline")
            let movedLog = try String(
                contentsOfFile: cluster.nodeDataDir(other) + "/logs/\(job).0.2/stdout", encoding: .utf8)
            #expect(movedLog == "start\nend\n")

            let nodes = try corral("nodes")
            let row = nodes.stdout.split(separator: "\n").first { $0.hasPrefix(drained + " ") }
            #expect(row?.contains("drained") == true, "\(nodes.stdout)")
            let statuses = try await cluster.client().nodes()
            #expect(statuses.first { $0.id.rawValue == drained }?.conditions == ["drained"])

            let undrain = try corral("node", "undrain", drained)
            #expect(undrain.stdout == "\(drained) takes work again\n", "\(undrain.stderr)")
            let after = try await cluster.client().nodes()
            #expect(after.first { $0.id.rawValue == drained }?.drain == nil)
            let bad = try corral("node", "drain", drained, "--deadline", "soon")
            #expect(bad.status != 0 && bad.stderr.contains("--deadline"), "\(bad.stderr)")
        }
    }
}
