import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// The node circuit breaker with real agents: a node whose volume directory is gone fails every launch
/// that mounts it (the node's fault, not the task's); it is tripped, skipped, probed after the cool-down
/// and trusted again once the directory is back.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct BreakerTests {
    @Test("a node whose launches keep failing is tripped, skipped, probed, and trusted again")
    func trippedSkippedProbedTrusted() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-breaker")
        let data = directory.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var config = ClusterTests.config()
        config.tenants = ["t": .init(token: SchedulerConfig.randomToken(), volumes: ["data"])]
        config.breakerFailures = 2
        config.breakerCooldownSeconds = 8
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path + "/cluster", config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            var flaky = LocalCluster.Node(id: "flaky", cpu: 2, memory: "1Gi")
            flaky.arguments = ["--volume", "data=\(data)"]
            try cluster.startAgent(flaky)
            try cluster.startAgent(LocalCluster.Node(id: "steady", cpu: 2, memory: "1Gi"))
            try await cluster.waitForNodes(2)
            let admin = cluster.client()
            func breaker() async throws -> NodeStatus? { try await admin.nodes().first { $0.id == "flaky" } }

            // The volume's directory goes away under the agent: every launch that mounts it fails.
            try FileManager.default.removeItem(atPath: data)
            let mounting = try await ClusterTests.submit(
                cluster,
                #"{"name": "mounts", "tenant": "t", "volumes": [{"name": "data", "target": "/data"}], "retry": {"maxAttempts": 5},"#
                    + #" "resources": {"cpu": 0.1, "memory": "16Mi"}, "command": ["sh", "-c", "echo ok > /data/out"]}"#)
            var status = try await breaker()
            let deadline = ContinuousClock.now + .seconds(20)
            while status?.breaker != "open" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                status = try await breaker()
            }
            #expect(status?.breaker == "open", "\(String(describing: status))")
            #expect(status?.conditions?.contains("breaker-open") == true)
            #expect(status?.breakerReason?.contains("volume data") == true, "\(status?.breakerReason ?? "")")
            let listed = try runCorral(
                ["nodes", "--scheduler", cluster.url], environment: ["CORRAL_TOKEN": config.adminToken], timeout: 30)
            #expect(listed.stdout.contains("open: 2 launches in a row failed"), "\(listed.stdout)")
            let metrics = try await admin.metrics()
            #expect(metrics.contains("corral_nodes_breaker_open 1"), "\(metrics)")

            // Skipped: two tasks that could run anywhere both go to the other node.
            let anywhere = try await ClusterTests.submit(
                cluster,
                #"{"name": "anywhere", "tenant": "t", "count": 2, "resources": {"cpu": 0.1, "memory": "16Mi"}, "command": ["true"]}"#
            )
            let placed = try await ClusterTests.waitForTasks(cluster, anywhere) {
                $0.allSatisfy { $0.state == .completed }
            }
            #expect(placed.allSatisfy { $0.node?.rawValue == "steady" }, "\(placed.map(\.node))")

            // The directory is back: after the cool-down the waiting task is the probe, and it runs.
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let done = try await ClusterTests.waitForTasks(cluster, mounting) {
                $0.allSatisfy { $0.state == .completed }
            }
            #expect(done.first?.node?.rawValue == "flaky")
            #expect(done.first?.attempt == 3, "two failed launches, then the probe")
            #expect(try await breaker()?.breaker == "closed", "trusted again")
            #expect(try await breaker()?.breakerTrips == 1)
        }
    }
}
