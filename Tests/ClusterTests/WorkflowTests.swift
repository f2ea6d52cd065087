import CorralClient
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Workflows on a real scheduler and agent, through the CLI: a diamond whose start times follow its
/// edges, a failing root that skips what waits on it and runs its cleanup, `corral job graph`, and a
/// cycle refused with the edge named.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct WorkflowTests {
    /// A -> B, A -> C, B & C -> D; E runs on A's failure. A runs `root`.
    static func diamond(root: String) -> String {
        func job(_ name: String, _ command: String, _ edges: String = "") -> String {
            #"{"name": ""# + name + #"", "tenant": "t", "resources": {"cpu": 0.1, "memory": "16Mi"},"#
                + #" "retry": {"maxAttempts": 1}, "command": ["sh", "-c", ""# + command + #""], "dependsOn": ["#
                + edges + "]}"
        }
        let jobs = [
            job("A", root), job("B", "sleep 1", #"{"job": "A"}"#), job("C", "sleep 1", #"{"job": "A"}"#),
            job("D", "true", #"{"job": "B"}, {"job": "C", "on": "success"}"#),
            job("E", "true", #"{"job": "A", "on": "failure"}"#),
        ]
        return #"{"jobs": ["# + jobs.joined(separator: ", ") + "]}"
    }

    func submit(_ cluster: LocalCluster, _ workflow: String) throws -> [String: String] {
        let file = cluster.dataDir + "/workflow-\(UUID().uuidString).json"
        try workflow.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runCorral(
            ["job", "submit", file, "--json", "--scheduler", cluster.url],
            environment: ["CORRAL_TOKEN": cluster.config.tenants["t"]!.token], timeout: 30)
        try #require(result.status == 0, "submit failed: \(result.stderr)")
        let view = try JSONDecoder().decode(WorkflowView.self, from: Data(result.stdout.utf8))
        return Dictionary(uniqueKeysWithValues: view.jobs.map { ($0.name, $0.id.rawValue) })
    }

    /// Waits until every job has ended; their views by name.
    func ended(_ cluster: LocalCluster, _ ids: [String: String]) async throws -> [String: JobView] {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            var views: [String: JobView] = [:]
            for (name, id) in ids { views[name] = try await cluster.client().job(id) }
            if views.values.allSatisfy(\.state.isTerminal) { return views }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("the workflow did not end within 60 s")
        return [:]
    }

    @Test("a diamond workflow: start times follow the edges; a failing root skips B, C and D and runs E")
    func diamondThroughTheCLI() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-workflow")
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi"))
            try await cluster.waitForNodes(1)

            let good = try submit(cluster, Self.diamond(root: "sleep 1"))
            let views = try await ended(cluster, good)
            var started: [String: Double] = [:]
            for (name, id) in good { started[name] = try await cluster.client().tasks(id).first?.startedAt }
            #expect(["A", "B", "C", "D"].allSatisfy { views[$0]?.state == .completed }, "\(views.mapValues(\.state))")
            #expect(views["E"]?.state == .skipped)
            let a = try #require(started["A"]), b = try #require(started["B"]), c = try #require(started["C"])
            let d = try #require(started["D"])
            #expect(b >= a + 0.9 && c >= a + 0.9, "B and C start after A ended: A \(a), B \(b), C \(c)")
            #expect(d >= max(b, c) + 0.9, "D starts after B and C ended: \(d)")

            let graph = try runCorral(
                ["job", "graph", good["D"]!, "--scheduler", cluster.url],
                environment: ["CORRAL_TOKEN": cluster.config.adminToken], timeout: 30)
            #expect(graph.status == 0, "\(graph.stderr)")
            #expect(
                graph.stdout.contains("D  \(good["D"]!)  completed  <- B (success), C (success)"), "\(graph.stdout)")
            #expect(graph.stdout.contains("E  \(good["E"]!)  skipped  <- A (failure)"), "\(graph.stdout)")

            let bad = try submit(cluster, Self.diamond(root: "exit 3"))
            let failed = try await ended(cluster, bad)
            #expect(failed["A"]?.state == .failed)
            #expect(failed["E"]?.state == .completed, "the cleanup runs on A's failure")
            for name in ["B", "C"] {
                #expect(failed[name]?.state == .skipped)
                #expect(failed[name]?.skipped?.contains(bad["A"]!) == true, "\(failed[name]?.skipped ?? "")")
            }
            #expect(failed["D"]?.state == .skipped)
        }
    }

    @Test("a workflow with a cycle is a 400 naming the edge, and nothing of it is stored")
    func cycleRefused() async throws {
        try #require(Preconditions.missing(.root).isEmpty, "\(Preconditions.missing(.root))")
        let directory = TemporaryDirectory("corral-workflow-cycle")
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try await cluster.waitForScheduler()
            let cycle = Self.diamond(root: "true").replacingOccurrences(
                of:
                    #""name": "A", "tenant": "t", "resources": {"cpu": 0.1, "memory": "16Mi"}, "retry": {"maxAttempts": 1}, "command": ["sh", "-c", "true"], "dependsOn": []"#,
                with: #""name": "A", "tenant": "t", "command": ["true"], "dependsOn": [{"job": "D"}]"#)
            #expect(cycle.contains(#"[{"job": "D"}]"#))
            let client = cluster.client(token: cluster.config.tenants["t"]!.token)
            await #expect {
                _ = try await client.submit(workflow: Data(cycle.utf8))
            } throws: { error in
                guard let error = error as? APIError, error.status == 400 else { return false }
                return error.problems?.contains { $0.field.hasPrefix("jobs[") && $0.message.contains("cycle") } == true
            }
            #expect(try await cluster.client().jobs().isEmpty)
        }
    }
}
