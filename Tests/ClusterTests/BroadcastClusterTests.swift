import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// A broadcast job (`placement.mode each-node`) on three real agents: exactly one task runs on each, and
/// each knows its index and the count.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct BroadcastClusterTests {
    @Test("a broadcast job on three agents runs exactly one task on each")
    func oneTaskOnEachAgent() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-broadcast")
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            for id in ["a", "b", "c"] { try cluster.startAgent(LocalCluster.Node(id: id, cpu: 1, memory: "1Gi")) }
            try await cluster.waitForNodes(3)
            let job = try await ClusterTests.submit(
                cluster,
                #"{"name": "shard", "tenant": "t", "placement": {"mode": "each-node"}, "resources": {"cpu": 0.1, "memory": "16Mi"},"#
                    + #" "command": ["sh", "-c", "echo $CORRAL_TASK_INDEX/$CORRAL_TASK_COUNT"]}"#)
            let tasks = try await ClusterTests.waitForTasks(cluster, job) { $0.allSatisfy { $0.state == .completed } }
            #expect(tasks.count == 3)
            #expect(Set(tasks.compactMap(\.node?.rawValue)) == ["a", "b", "c"], "one per node: \(tasks.map(\.node))")
            for task in tasks {
                let node = try #require(task.node?.rawValue)
                let stdout = try String(
                    contentsOfFile: cluster.nodeDataDir(node) + "/logs/\(job).\(task.index).1/stdout", encoding: .utf8)
                #expect(stdout == "\(task.index)/3\n")
            }
            // No node matches: a 422 naming the mode, nothing stored.
            let client = cluster.client(token: cluster.config.tenants["t"]!.token)
            await #expect {
                _ = try await client.submit(
                    Data(
                        #"{"name": "none", "tenant": "t", "placement": {"mode": "each-node"}, "constraints": {"gpu": "yes"}, "command": ["true"]}"#
                            .utf8))
            } throws: { error in
                (error as? APIError)?.code == "no_nodes"
            }
        }
    }
}
