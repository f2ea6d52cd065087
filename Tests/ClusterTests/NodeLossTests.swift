import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// Two agents, each in a network namespace of its own, reach the scheduler over veth pairs; one node's
/// link is cut and the scheduler must judge it DOWN and re-place its tasks within its TTL + 1 s.
@Suite(
    .serialized,
    .enabled(
        if: Preconditions.met(
            .root, .cgroups, .binary("ip", package: "iproute2"), .binary("nsenter", package: "util-linux"))),
    .timeLimit(.minutes(3))
)
struct NodeLossTests {
    @Test("a node cut off from the network is DOWN and its tasks re-placed after its TTL, within TTL + 1 s")
    func linkDown() async throws {
        let missing = Preconditions.missing(
            .root, .cgroups, .binary("ip", package: "iproute2"), .binary("nsenter", package: "util-linux"))
        try #require(missing.isEmpty, "\(missing)")
        let network = TestNetwork()
        let directory = TemporaryDirectory("corral-netns")
        var config = ClusterTests.config()
        let ttl = 3.0
        config.minimumNodeTTLSeconds = ttl
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, host: network.schedulerAddress
        ) { cluster in
            try await network.startCluster(cluster, agents: 2)
            let job = try await ClusterTests.submit(
                cluster,
                """
                {"name": "long", "tenant": "t", "count": 4, "resources": {"cpu": 0.5, "memory": "16Mi"},
                 "command": ["sleep", "120"]}
                """)
            let placed = try await ClusterTests.waitForTasks(cluster, job) {
                $0.count == 4 && $0.allSatisfy { $0.state == .running }
            }
            let onSecond = placed.filter { $0.node == "n2" }.map(\.index)
            try #require(!onSecond.isEmpty, "least-connection put no task on n2: \(placed.map(\.node))")

            try network.cut(2)
            let cut = ContinuousClock.now
            let moved = try await ClusterTests.waitForTasks(cluster, job, timeout: .seconds(ttl * 1.1 + 10)) { tasks in
                onSecond.allSatisfy { index in tasks[index].node == "n1" && tasks[index].attempt == 2 }
            }
            let elapsed = ContinuousClock.now - cut
            // The TTL the scheduler applies is the configured minimum x 1.1 (slack for heartbeat jitter).
            #expect(elapsed <= .seconds(ttl * 1.1 + 1), "re-placed after \(elapsed)")
            // And not before the TTL: the last heartbeat n2 got through was at most one interval (1 s, plus
            // half a second of slack for its request) before the cut.
            #expect(elapsed >= .seconds(ttl * 1.1 - 1.5), "declared down \(elapsed) after the cut, before its TTL")
            #expect(onSecond.allSatisfy { moved[$0].node == "n1" })
            let nodes = try await cluster.client().nodes()
            #expect(nodes.first { $0.id == "n2" }?.ready == false)
            #expect(nodes.first { $0.id == "n1" }?.ready == true)
        }
    }
}
