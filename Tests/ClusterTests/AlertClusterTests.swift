import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// Alert rules on a real cluster, their notifications received by a webhook on loopback: a dead letter,
/// an OOM kill, a node cut off from the network (NodeLossTests' cut link), a tenant over its quota share.
/// Each alert arrives exactly once as `firing` and once as `resolved`, with the same id.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(4)))
struct AlertClusterTests {
    @Test("dead letter, OOM, node down and quota each fire once and resolve once at a loopback webhook")
    func alertsReachTheWebhook() async throws {
        let missing = Preconditions.missing(
            .root, .cgroups, .binary("ip", package: "iproute2"), .binary("nsenter", package: "util-linux"),
            .file("/usr/bin/python3", hint: "apt-get install python3"))
        try #require(missing.isEmpty, "\(missing)")
        let network = TestNetwork()
        let directory = TemporaryDirectory("corral-alerts")
        // The first POST is refused: the scheduler retries it, and it still arrives once.
        let sink = try WebhookSink(directory: directory.path, failFirst: 1)
        defer { sink.stop() }
        var config = ClusterTests.config()
        config.minimumNodeTTLSeconds = 3
        config.tenants["t"]?.quota = .init(cpu: 1, memory: "4Gi", runningTasks: 20)
        config.alerts = [
            AlertRule(name: "dead", kind: .deadLetter, webhook: sink.url, activeSeconds: 15),
            AlertRule(name: "oom", kind: .oomKilled, webhook: sink.url, activeSeconds: 15),
            AlertRule(name: "down", kind: .nodeDown, webhook: sink.url),
            AlertRule(name: "quota", kind: .tenantQuota, webhook: sink.url, threshold: 0.5),
        ]
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, host: network.schedulerAddress
        ) { cluster in
            try await network.startCluster(cluster, agents: 2)
            func submit(_ name: String, cpu: Double, memory: String, _ command: String) async throws -> String {
                try await ClusterTests.submit(
                    cluster,
                    #"{"name": "\#(name)", "tenant": "t", "resources": {"cpu": \#(cpu), "memory": "\#(memory)"},"#
                        + #" "retry": {"maxAttempts": 1}, "command": ["sh", "-c", "\#(command)"]}"#)
            }
            // 0.75 of the tenant's 1 core, over the rule's half, for 20 s: running before anything else.
            let big = try await submit("big", cpu: 0.75, memory: "16Mi", "sleep 20")
            let bigTasks = try await ClusterTests.waitForTasks(cluster, big) { $0.first?.state == .running }
            // The node cut off is the one the big task is not on: lost there, it would be a dead letter too.
            let cut = bigTasks.first?.node == "n2" ? 1 : 2
            // The events' alerts hold 15 s: long enough to be seen below, short enough to resolve.
            let failing = try await submit("failing", cpu: 0.1, memory: "16Mi", "exit 3")
            let hog = try await submit("hog", cpu: 0.1, memory: "32Mi", "head -c 268435456 /dev/zero | tail")
            _ = try await ClusterTests.waitForTasks(cluster, failing) { $0.first?.state == .failed }
            _ = try await ClusterTests.waitForTasks(cluster, hog) { $0.first?.state == .failed }

            try network.cut(cut)
            func firing() async -> Set<String> {
                Set(((try? await cluster.client().alerts()) ?? []).map(\.rule))
            }
            var seen = Set<String>()
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, !seen.isSuperset(of: ["dead", "oom", "down", "quota"]) {
                seen.formUnion(await firing())
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(
                seen.isSuperset(of: ["dead", "oom", "down", "quota"]),
                "seen firing: \(seen); \(directory.read("scheduler.log").map { String($0.prefix(6000)) } ?? "")")
            let listed = try runCorral(
                ["alerts", "--scheduler", cluster.url], environment: ["CORRAL_TOKEN": cluster.config.adminToken],
                timeout: 30)
            #expect(listed.stdout.contains("down") && listed.stdout.contains("n\(cut)"), "\(listed.stdout)")
            let metrics = try PrometheusScrape(try await cluster.client().metrics())
            #expect(metrics["corral_alerts_firing", ["rule": "down"]] == 1)
            try network.restore(cut)

            // Everything resolves: the node is back, the big job ended, the events' 15 s passed.
            let settled = ContinuousClock.now + .seconds(60)
            var received: [[String: Any]] = []
            while ContinuousClock.now < settled {
                received = sink.received()
                if received.filter({ $0["status"] as? String == "resolved" }).count >= 5 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            try await Task.sleep(for: .seconds(2))  // nothing more may arrive
            received = sink.received()
            var byAlert: [String: [String]] = [:]
            var rules: [String: String] = [:]
            for body in received {
                let id = try #require(body["id"] as? String)
                byAlert[id, default: []].append(try #require(body["status"] as? String))
                rules[id] = body["rule"] as? String
            }
            // dead: the failing task and the OOM-killed one (one attempt each); oom; down; quota.
            #expect(rules.values.sorted() == ["dead", "dead", "down", "oom", "quota"], "\(received)")
            for (id, statuses) in byAlert {
                #expect(statuses == ["firing", "resolved"], "\(id): \(statuses)")
            }
            let down = received.first { $0["rule"] as? String == "down" }
            #expect(down?["subject"] as? String == "n\(cut)")
            let quota = received.first { $0["rule"] as? String == "quota" }
            #expect(quota?["subject"] as? String == "t/cpu")
            #expect((try await cluster.client().alerts()).isEmpty)
        }
    }
}
