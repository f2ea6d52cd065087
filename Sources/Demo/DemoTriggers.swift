import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import SchedulerService

/// The demo's third act, triggers: a schedule firing every 3 s, a small workflow (extract, then clean and
/// index side by side, then publish), and a checkpointed counter whose node is lost halfway and which
/// resumes on another node from its checkpoint.
enum DemoTriggers {
    struct Outcome: Sendable, Codable {
        /// The schedule's fire times (runs), and how many of them completed.
        var fires: [Int64] = []
        var firesCompleted = 0
        /// The workflow's jobs in the order they started, and each one's end.
        var workflowOrder: [String] = []
        var workflowStates: [String: String] = [:]
        /// The counter: the node lost and the step it was at, the node and step it resumed from.
        var lostNode: String?
        var lostAt: Int?
        var resumedNode: String?
        var resumedAt: Int?
        var counterState: String?

        var ok: Bool {
            let workflow =
                workflowOrder.first == "extract" && workflowOrder.last == "publish"
                && workflowStates.values.allSatisfy { $0 == "completed" } && workflowStates.count == 4
            let checkpoint =
                counterState == "completed" && resumedNode != nil && resumedNode != lostNode
                && (resumedAt ?? 0) >= (lostAt ?? 0) - 15 && (resumedAt ?? 0) > 0
            return fires.count >= 3 && firesCompleted >= 3 && workflow && checkpoint
        }
    }

    static let counter = """
        d=$CORRAL_CHECKPOINT_DIR; i=$(cat $d/count 2>/dev/null || echo 0); echo resume $i
        while [ $i -lt 60 ]; do i=$((i+1)); echo $i > $d/next && mv $d/next $d/count; echo step $i; sleep 0.1; done
        """

    static func run(_ cluster: LocalCluster, say: @escaping @Sendable (String) -> Void) async throws -> Outcome {
        var outcome = Outcome()
        let client = cluster.client(token: cluster.config.tenants["batch"]?.token)
        say("Triggers:")
        let small: [String: Any] = ["cpu": 0.1, "memory": "16Mi"]
        let schedule = try await client.submit(
            try JSONSerialization.data(withJSONObject: [
                "name": "every-3s", "tenant": "batch", "resources": small, "command": ["sh", "-c", "date +%T"],
                "schedule": ["cron": "*/3 * * * * *", "overlap": "forbid"],
            ]))
        say("  schedule every-3s (cron */3 * * * * *, overlap forbid): \(schedule.id)")
        func job(_ name: String, _ seconds: String, after: [String]) -> [String: Any] {
            [
                "name": name, "tenant": "batch", "resources": small, "command": ["sh", "-c", "sleep \(seconds)"],
                "dependsOn": after.map { ["job": $0] },
            ]
        }
        let workflow = try await client.submit(
            workflow: try JSONSerialization.data(withJSONObject: [
                "jobs": [
                    job("extract", "1", after: []), job("clean", "1", after: ["extract"]),
                    job("index", "1", after: ["extract"]), job("publish", "0.2", after: ["clean", "index"]),
                ]
            ]))
        say(
            "  workflow extract -> (clean, index) -> publish: \(workflow.jobs.map(\.id.rawValue).joined(separator: " "))"
        )
        let counter = try await client.submit(
            try JSONSerialization.data(withJSONObject: [
                "name": "counter", "tenant": "batch", "resources": small, "checkpointInterval": "1s",
                "retry": ["maxAttempts": 3], "command": ["sh", "-c", counter],
            ]))
        say("  counter to 60 in 0.1 s steps, its count in CORRAL_CHECKPOINT_DIR: \(counter.id)")

        try await loseCounterNode(cluster, counter.id.rawValue, &outcome, say: say)

        // The workflow, by start time.
        var started: [(String, Double)] = []
        for view in workflow.jobs {
            let ended = try await DemoServices.waitForTask(cluster, view.id.rawValue) { $0.state.isTerminal }
            outcome.workflowStates[view.name] = ended.state.rawValue
            started.append((view.name, ended.startedAt ?? 0))
        }
        outcome.workflowOrder = started.sorted { $0.1 < $1.1 }.map(\.0)
        say("  workflow started in the order \(outcome.workflowOrder.joined(separator: ", "))")

        let admin = cluster.client()
        _ = try await admin.pause(schedule.id.rawValue, true)
        let runs = try await admin.runs(schedule.id.rawValue)
        outcome.fires = runs.compactMap(\.fire)
        outcome.firesCompleted = runs.filter { $0.state == .completed }.count
        say("  schedule paused after \(runs.count) runs (\(outcome.firesCompleted) completed)")
        return outcome
    }

    /// Waits for the counter to pass step 25, then takes its node away (agent SIGKILLed, task killed); the
    /// task resumes elsewhere from its checkpoint. The node comes back afterwards.
    static func loseCounterNode(
        _ cluster: LocalCluster, _ job: String, _ outcome: inout Outcome, say: @escaping @Sendable (String) -> Void
    ) async throws {
        let running = try await DemoServices.waitForTask(cluster, job) { $0.state == .running }
        guard let node = running.node?.rawValue, let allocation = running.allocation else { return }
        let log = cluster.nodeDataDir(node) + "/logs/\(allocation)/stdout"
        let deadline = ContinuousClock.now + .seconds(30)
        while steps(log) < 25 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        cluster.signalAgent(node, SIGKILL)
        for root in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
            let kill = root + "/" + cluster.cgroupParent(node) + "/\(allocation)/cgroup.kill"
            if FileManager.default.fileExists(atPath: kill) {
                try? "1".write(toFile: kill, atomically: false, encoding: .utf8)
            }
        }
        outcome.lostNode = node
        outcome.lostAt = steps(log)
        say("  counter's node \(node) lost at step \(outcome.lostAt ?? 0) (agent SIGKILLed, task killed)")
        let ended = try await DemoServices.waitForTask(cluster, job, timeout: .seconds(90)) { $0.state.isTerminal }
        outcome.counterState = ended.state.rawValue
        outcome.resumedNode = ended.node?.rawValue
        if let resumed = ended.node?.rawValue,
            let text = try? String(
                contentsOfFile: cluster.nodeDataDir(resumed) + "/logs/\(job).0.\(ended.attempt)/stdout", encoding: .utf8
            ),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("resume ") })
        {
            outcome.resumedAt = Int(line.dropFirst(7))
        }
        say(
            "  counter resumed on \(outcome.resumedNode ?? "?") at step \(outcome.resumedAt ?? 0) and \(ended.state.rawValue)"
        )
        // The machine comes back (its agent finds the task ended while it was down).
        if let spec = DemoWorkload.nodes.first(where: { $0.id == node }) {
            var again = spec
            again.arguments += DemoServices.arguments(for: node)
            try cluster.startAgent(again)
        }
    }

    static func steps(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").last {
            $0.hasPrefix("step ")
        }.flatMap { Int($0.dropFirst(5)) } ?? 0
    }
}
