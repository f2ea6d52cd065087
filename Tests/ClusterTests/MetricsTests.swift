import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// `/metrics` of a scheduler and its agents, read strictly, and every series checked against the job
/// and node states the API shows at the same moment.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct MetricsTests {
    static func spec(_ name: String, _ command: String, attempts: Int = 1) -> String {
        #"{"name": "\#(name)", "tenant": "t", "resources": {"cpu": 0.25, "memory": "32Mi"}, "retry": {"maxAttempts": \#(attempts)},"#
            + #" "command": ["sh", "-c", "\#(command)"]}"#
    }

    @Test("every series of the scheduler's and each agent's /metrics matches the cluster's state")
    func seriesMatchTheState() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-metrics")
        var config = ClusterTests.config()
        config.tenants["t"]?.quota = .init(cpu: 2, memory: "1Gi", runningTasks: 10)
        // Reclamation on, so that its series are served (and checked against the dashboard).
        config.reclamation = .init()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            for id in ["a", "b"] { try cluster.startAgent(LocalCluster.Node(id: id, cpu: 1, memory: "1Gi")) }
            try await cluster.waitForNodes(2)
            let client = cluster.client()
            let done = try await ClusterTests.submit(cluster, Self.spec("done", "true"))
            let failed = try await ClusterTests.submit(cluster, Self.spec("failed", "exit 3"))
            let running = try await ClusterTests.submit(cluster, Self.spec("running", "sleep 60"))
            _ = try await ClusterTests.waitForTasks(cluster, done) { $0.first?.state == .completed }
            _ = try await ClusterTests.waitForTasks(cluster, failed) { $0.first?.state == .failed }
            let runningTasks = try await ClusterTests.waitForTasks(cluster, running) { $0.first?.state == .running }
            let runningNode = try #require(runningTasks.first?.node?.rawValue)
            let idle = runningNode == "a" ? "b" : "a"
            _ = try await client.drain(node: idle, deadline: nil)
            // One heartbeat more, so that each node's running count is the agent's own report.
            try await Task.sleep(for: .seconds(2.5))

            let scrape = try PrometheusScrape(try await client.metrics())
            let nodes = try await client.nodes()
            var jobs: [String: [TaskView]] = [:]
            for job in [done, failed, running] { jobs[job] = try await client.tasks(job) }
            let all = jobs.values.flatMap { $0 }
            for state in TaskState.allCases {
                let count = Double(all.filter { $0.state == state }.count)
                #expect(scrape["corral_tasks", ["tenant": "t", "state": state.rawValue]] == count, "\(state)")
            }
            #expect(scrape["corral_queue_depth"] == 0)
            #expect(scrape["corral_queue_oldest_seconds"] == 0)
            #expect(scrape["corral_dead_letters"] == 1)
            #expect(scrape["corral_placement_decisions_total", ["result": "placed"]] == 3)
            #expect(scrape["corral_scheduling_latency_seconds_count", ["phase": "submit_to_placed"]] == 3)
            // The short tasks may end before any heartbeat says they run: at least the sleeping one did.
            let toRunning = scrape["corral_scheduling_latency_seconds_count", ["phase": "placed_to_running"]] ?? 0
            #expect((1...3).contains(toRunning))
            #expect(
                scrape["corral_scheduling_latency_seconds_bucket", ["phase": "submit_to_placed", "le": "+Inf"]] == 3)
            #expect((scrape["corral_store_transaction_seconds_count"] ?? 0) >= 3, "at least one per job")
            #expect(scrape["corral_jobs_submitted_total"] == 3)
            #expect(scrape["corral_leader"] == 1)

            for node in nodes {
                let id = node.id.rawValue
                #expect(scrape["corral_node_up", ["node": id]] == (node.ready ? 1 : 0))
                #expect(scrape["corral_node_draining", ["node": id]] == (node.drain == nil ? 0 : 1))
                #expect(scrape["corral_node_running_tasks", ["node": id]] == Double(node.running), "\(id)")
                #expect(
                    scrape["corral_node_reserved_ratio", ["node": id, "resource": "cpu"]]
                        == Double(node.reserved.cpuMillis) / Double(node.capacity.cpuMillis))
                #expect((scrape["corral_node_heartbeat_age_seconds", ["node": id]] ?? 99) < 5)
                for resource in ["cpu", "memory", "io"] {
                    let load = try #require(scrape["corral_node_load", ["node": id, "resource": resource]])
                    #expect((0...1000).contains(load))
                    let forecast = scrape[
                        "corral_node_forecast", ["node": id, "resource": resource, "horizon_seconds": "60"]]
                    #expect(forecast != nil, "\(id) \(resource)")
                }
            }
            #expect(scrape["corral_node_running_tasks", ["node": runningNode]] == 1)
            #expect(scrape["corral_node_draining", ["node": idle]] == 1)
            #expect(scrape["corral_tenant_usage", ["tenant": "t", "resource": "cpu"]] == 0.25)
            #expect(scrape["corral_tenant_usage", ["tenant": "t", "resource": "running_tasks"]] == 1)
            #expect(scrape["corral_tenant_quota", ["tenant": "t", "resource": "cpu"]] == 2)
            #expect(scrape["corral_tenant_quota", ["tenant": "t", "resource": "memory"]] == Double(1 << 30))
            #expect(scrape["corral_tenant_quota_used_ratio", ["tenant": "t", "resource": "memory"]] == 1.0 / 32)
            #expect(scrape["corral_tenant_quota_used_ratio", ["tenant": "t", "resource": "cpu"]] == 0.125)

            // Each agent's own page: its launches are the attempts the scheduler placed on it.
            var families = scrape.families
            for node in nodes {
                let address = try #require(node.address, "agents listen in LocalCluster")
                // The agent's page needs no token: a client with none reads it.
                let page = try await SchedulerClient(baseURL: address, token: "").metrics()
                let agent = try PrometheusScrape(page)
                let placed = all.filter { $0.node == node.id }.count
                #expect(agent["corral_agent_launches_total", ["result": "started"]] == Double(placed), "\(node.id)")
                #expect(agent["corral_agent_launch_seconds_count"] == Double(placed))
                #expect(agent["corral_agent_tasks", ["state": "running"]] == (node.id.rawValue == runningNode ? 1 : 0))
                #expect((agent["corral_agent_sample_seconds_count"] ?? 0) >= 1)
                families.formUnion(agent.families)
            }
            try Self.checkDashboard(against: families)
            _ = try await client.cancel(running)
        }
    }

    /// The Grafana dashboard in docs/ graphs only series the scheduler and agents serve, and every family
    /// they serve appears in one of its panels.
    static func checkDashboard(against families: Set<String>) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/docs/grafana-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var used = Set<String>()
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expr = try #require(target["expr"] as? String)
                for match in expr.matches(of: /corral_[a-z_]+/) {
                    var name = String(match.output)
                    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && !families.contains(name)
                    {
                        name = String(name.dropLast(suffix.count))
                    }
                    used.insert(name)
                }
            }
        }
        #expect(used.subtracting(families).isEmpty, "graphed but not served: \(used.subtracting(families).sorted())")
        #expect(families.subtracting(used).isEmpty, "served but not graphed: \(families.subtracting(used).sorted())")
    }
}
