import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Service jobs: health-checked, restarted in place, scaled. The agent runs in a network namespace of its
/// own, so its bridge and rules stay there.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServiceTests {
    /// Answers 500 on its first run on the node (no marker in the state volume yet), 200 after a restart.
    static let server = """
        import http.server, os
        first = not os.path.exists('/state/started')
        if first:
            open('/state/started', 'a').close()
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(500 if first else 200)
                self.end_headers()
            def log_message(self, *args):
                pass
        http.server.HTTPServer(('0.0.0.0', int(os.environ['CORRAL_PORT_HTTP'])), Handler).serve_forever()
        """

    @Test("a service failing its health check is restarted in place, reported unhealthy then healthy; scale converges")
    func healthAndScale() async throws {
        let missing = Preconditions.missing(NetworkTests.requirements)
        try #require(missing.isEmpty, "\(missing)")
        let network = TestNetwork()
        let directory = TemporaryDirectory("corral-service")
        let state = directory.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        var config = ClusterTests.config()
        config.tenants = ["t": .init(token: SchedulerConfig.randomToken(), volumes: ["state"])]
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path + "/cluster", config: config,
            host: network.schedulerAddress, failOnLeftovers: true
        ) { cluster in
            _ = try network.addNamespace(1)
            try cluster.startScheduler()
            var node = NetworkTests.node(1, network)
            node.arguments += ["--volume", "state=\(state)"]
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)
            let argv = String(decoding: try JSONEncoder().encode(["python3", "-c", Self.server]), as: UTF8.self)
            let job = try await ClusterTests.submit(
                cluster,
                """
                {"name": "web", "tenant": "t", "type": "service", "command": \(argv),
                 "resources": {"cpu": 0.3, "memory": "64Mi"},
                 "network": {"mode": "bridge", "ports": [{"name": "http", "to": 8080}]},
                 "volumes": [{"name": "state", "target": "/state"}],
                 "restart": {"attempts": 3, "interval": "1m", "delay": "500ms"},
                 "checks": [{"type": "http", "port": "http", "path": "/health", "interval": "300ms",
                             "timeout": "1s", "unhealthyAfter": 2}]}
                """)
            var seen: [TaskHealth.Status] = []
            var last: TaskView?
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                if let task = try? await cluster.client().tasks(job).first {
                    last = task
                    if let status = task.health?.status, seen.last != status { seen.append(status) }
                    if seen.contains(.unhealthy), task.health?.status == .healthy { break }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(seen.contains(.unhealthy), "health seen: \(seen)")
            #expect(last?.health?.status == .healthy, "\(String(describing: last?.health))")
            #expect((last?.health?.restarts ?? 0) >= 1)
            #expect(last?.attempt == 1, "restarted in place, not placed again")
            #expect(last?.health?.output.contains("HTTP 200") == true, "\(String(describing: last?.health))")
            let status = try runCorral(
                ["job", "status", job],
                environment: ["CORRAL_ADDR": cluster.url, "CORRAL_TOKEN": cluster.config.adminToken])
            #expect(status.stdout.contains("healthy (restarts"), "\(status.stdout)")

            // Scaled up, the new tasks are placed and run; scaled down, those past the count stop.
            _ = try await cluster.client().scale(job, count: 3)
            let up = try await ClusterTests.waitForTasks(cluster, job, timeout: .seconds(60)) { tasks in
                tasks.count == 3 && tasks.allSatisfy { $0.state == .running }
            }
            #expect(up.count == 3 && up.allSatisfy { $0.state == .running }, "\(up.map(\.state))")
            _ = try await cluster.client().scale(job, count: 1)
            let down = try await ClusterTests.waitForTasks(cluster, job) { tasks in
                tasks.count == 3 && tasks[0].state == .running && tasks[1...].allSatisfy { $0.state == .killed }
            }
            #expect(down.filter { $0.state == .running }.count == 1)

            // Batch jobs are not scaled.
            let batch = try await ClusterTests.submit(cluster, #"{"name": "b", "tenant": "t", "command": ["true"]}"#)
            do {
                _ = try await cluster.client().scale(batch, count: 2)
                Issue.record("a batch job was scaled")
            } catch let error as APIError {
                #expect(error.status == 409 && error.code == "not_a_service")
            }
            _ = try await cluster.client().cancel(job)
            _ = try await ClusterTests.waitForTasks(cluster, job) { $0.allSatisfy { $0.state.isTerminal } }
            try await NetworkTests.expectNoLeftovers(network, 1)
        }
    }
}
