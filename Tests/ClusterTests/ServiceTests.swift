import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Service jobs: health-checked, restarted in place, scaled. The agent runs in a network namespace of its
/// own, so its bridge and rules stay there. The test servers are plain TCPServers: http.server's
/// HTTPServer looks up its own name when it binds, which in a namespace without a resolver waits out
/// the DNS timeouts before it listens.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServiceTests {
    /// Answers 500 on its first run on the node (no marker in the state volume yet), 200 after a restart.
    static let server = """
        import http.server, os, socketserver
        first = not os.path.exists('/state/started')
        if first:
            open('/state/started', 'a').close()
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(500 if first else 200)
                self.end_headers()
            def log_message(self, *args):
                pass
        socketserver.TCPServer(('0.0.0.0', int(os.environ['CORRAL_PORT_HTTP'])), Handler).serve_forever()
        """

    /// Checks of all three kinds on one service. Its first run writes no /work/ready, so the exec check (run
    /// inside the task: its /work) fails; the restarted run (another uid, the same tenant group) appends to
    /// the first run's file in the shared volume and writes it. /health answers a redirect to a path
    /// that answers 500 and leaves a mark: the check must take the 302 as it is.
    static let checkedServer = """
        import http.server, os, socketserver
        first = not os.path.exists('/state/started')
        open('/state/started', 'a').close()
        if not first:
            open('/work/ready', 'w').write('ready\\n')
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == '/health':
                    self.send_response(302)
                    self.send_header('Location', '/followed')
                else:
                    open('/state/followed', 'a').close()
                    self.send_response(500)
                self.end_headers()
            def log_message(self, *args):
                pass
        socketserver.TCPServer(('0.0.0.0', int(os.environ['CORRAL_PORT_HTTP'])), Handler).serve_forever()
        """

    /// A cluster of one agent in a network namespace with a `state` volume the tenant `t` may mount.
    func withServiceCluster(_ body: (LocalCluster, TestNetwork, String) async throws -> Void) async throws {
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
            try await body(cluster, network, state)
        }
    }

    /// The health statuses a job's first task goes through until `done` holds for its view (or 90 s pass).
    func watchHealth(
        _ cluster: LocalCluster, _ job: String, until done: (TaskView, [TaskHealth]) -> Bool
    ) async throws -> (seen: [TaskHealth], last: TaskView?) {
        var seen: [TaskHealth] = []
        var last: TaskView?
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let task = try? await cluster.client().tasks(job).first {
                last = task
                if let health = task.health, seen.last?.status != health.status { seen.append(health) }
                if done(task, seen) { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return (seen, last)
    }

    @Test("a service failing its health check is restarted in place, reported unhealthy then healthy; scale converges")
    func healthAndScale() async throws {
        try await withServiceCluster { cluster, network, _ in
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
            let (seen, last) = try await watchHealth(cluster, job) { task, seen in
                seen.contains { $0.status == .unhealthy } && task.health?.status == .healthy
            }
            #expect(seen.contains { $0.status == .unhealthy }, "health seen: \(seen)")
            #expect(last?.health?.status == .healthy, "\(String(describing: last?.health)) \(seen)")
            #expect((last?.health?.restarts ?? 0) >= 1)
            #expect(last?.attempt == 1, "restarted in place, not placed again")
            #expect(last?.health?.output.contains("HTTP 200") == true, "\(String(describing: last?.health))")
            let status = try runCorral(
                ["job", "status", job],
                environment: ["CORRAL_ADDR": cluster.url, "CORRAL_TOKEN": cluster.config.adminToken])
            #expect(status.stdout.contains("healthy (restarts"), "\(status.stdout)")

            // Scaled up, the new tasks are placed, run and pass their checks; scaled down, those past the count stop.
            _ = try await cluster.client().scale(job, count: 3)
            let up = try await ClusterTests.waitForTasks(cluster, job, timeout: .seconds(60)) { tasks in
                tasks.count == 3 && tasks.allSatisfy { $0.state == .running && $0.health?.status == .healthy }
            }
            #expect(
                up.count == 3 && up.allSatisfy { $0.state == .running && $0.health?.status == .healthy },
                "\(up.map { "\($0.state) \(String(describing: $0.health))" })")
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

    @Test("exec, tcp and http checks: the exec check runs inside the task, a redirect is not followed")
    func checkKinds() async throws {
        try await withServiceCluster { cluster, network, state in
            let argv = String(decoding: try JSONEncoder().encode(["python3", "-c", Self.checkedServer]), as: UTF8.self)
            let job = try await ClusterTests.submit(
                cluster,
                """
                {"name": "checked", "tenant": "t", "type": "service", "command": \(argv),
                 "resources": {"cpu": 0.3, "memory": "64Mi"},
                 "network": {"mode": "bridge", "ports": [{"name": "http", "to": 8080}]},
                 "volumes": [{"name": "state", "target": "/state"}],
                 "restart": {"attempts": 3, "interval": "1m", "delay": "500ms"},
                 "checks": [
                   {"type": "exec", "command": ["cat", "/work/ready"], "interval": "300ms", "unhealthyAfter": 2,
                    "grace": "1s"},
                   {"type": "tcp", "port": "http", "interval": "300ms", "grace": "5s"},
                   {"type": "http", "port": "http", "path": "/health", "interval": "300ms", "grace": "5s"}]}
                """)
            let (seen, last) = try await watchHealth(cluster, job) { task, seen in
                seen.contains { $0.status == .unhealthy } && task.health?.status == .healthy
            }
            let unhealthy = seen.first { $0.status == .unhealthy }
            #expect(unhealthy?.output.contains("exec: exit 1: cat:") == true, "health seen: \(seen)")
            #expect(last?.health?.status == .healthy, "\(String(describing: last?.health)) \(seen)")
            #expect((last?.health?.restarts ?? 0) >= 1)
            #expect(
                !FileManager.default.fileExists(atPath: state + "/followed"), "the http check followed the redirect")
            _ = try await cluster.client().cancel(job)
            _ = try await ClusterTests.waitForTasks(cluster, job) { $0.allSatisfy { $0.state.isTerminal } }
            try await NetworkTests.expectNoLeftovers(network, 1)
        }
    }
}
