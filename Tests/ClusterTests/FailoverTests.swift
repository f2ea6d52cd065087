import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Reports
import SchedulerService
import Store
import Synchronization
import TestSupport
import Testing

/// Three schedulers on a three-member etcd cluster: the leader is SIGKILLed in the middle of four
/// submission streams, and the cluster goes on under a new leader without losing or repeating work.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(5)))
struct FailoverTests {
    func requirements() throws {
        let missing = Preconditions.missing(.root, .cgroups, EtcdServer.requirement)
        try #require(missing.isEmpty, "\(missing)")
        try #require(
            FileManager.default.isExecutableFile(atPath: ClusterTests.binary),
            "\(ClusterTests.binary) missing: run `swift build` before the tests")
    }

    /// `body` with `schedulers` schedulers on an etcd of `members` members (listening on `etcdHost`), all
    /// stopped afterwards; the agents must leave no task behind.
    static func withHA(
        _ name: String, members: Int, schedulers: Int, ttl: Int, config: SchedulerConfig = ClusterTests.config(),
        etcdHost: String = "127.0.0.1", namespaces: [Int: (netns: String, host: String)] = [:],
        _ body: (LocalCluster, LocalEtcd) async throws -> Void
    ) async throws {
        let directory = TemporaryDirectory(name)
        let etcd = try LocalEtcd(count: members, directory: directory.path + "/etcd", host: etcdHost)
        defer { etcd.stop() }
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path + "/cluster", config: config,
            ha: .init(endpoints: etcd.endpoints, schedulers: schedulers, leaseTTL: ttl, namespaces: namespaces),
            failOnLeftovers: true
        ) { cluster in try await body(cluster, etcd) }
    }

    /// Waits until one scheduler leads; its index.
    static func leader(_ cluster: LocalCluster, within timeout: Duration) async throws -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await cluster.leader() { return leader }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("a SIGKILLed leader: a new one within 2x the lease TTL, every acknowledged job kept, no task started twice")
    func leaderKilledMidStream() async throws {
        try requirements()
        let ttl = 3
        try await Self.withHA("corral-failover", members: 3, schedulers: 3, ttl: ttl) { cluster, _ in
            let config = cluster.config
            try cluster.startScheduler()
            let first = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader elected")
            try cluster.startAgent(.init(id: "a", cpu: 2, memory: "2Gi"))
            try await cluster.waitForNodes(1)
            let tenant = cluster.client(token: config.tenants["t"]!.token)

            // A task that runs across the failover: its end must reach the new leader.
            let long = try await tenant.submit(
                Data(#"{"name": "long", "tenant": "t", "command": ["/bin/sleep", "8"]}"#.utf8)
            ).id.rawValue
            _ = try await ClusterTests.waitForTasks(cluster, long) { $0.first?.state == .running }

            let ledger = SubmissionLedger()
            var leaderless: Duration = .zero
            var agentFound: Duration = .zero
            var second: Int?
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    // A failure is not acknowledged: that job may or may not exist, and the next one goes on.
                    group.addTask { await ledger.stream(tenant, writer: writer, jobs: 40, stopOnFailure: false) }
                }
                try await ledger.wait(for: 40)
                cluster.signalScheduler(SIGKILL, index: first)
                let killed = ContinuousClock.now
                second = try await Self.leader(cluster, within: .seconds(Int64(4 * ttl)))
                leaderless = .now - killed
                // The agent's heartbeat finds the new leader within one heartbeat interval (1 s here).
                let elected = Date().timeIntervalSince1970
                let heard = ContinuousClock.now
                var seen = 0.0
                while seen < elected && ContinuousClock.now - heard < .seconds(10) {
                    seen = (try? await cluster.client().nodes().first { $0.id.rawValue == "a" }?.lastSeen) ?? 0
                    try await Task.sleep(for: .milliseconds(50))
                }
                agentFound = .now - heard
                try await group.waitForAll()
            }
            #expect(second != nil && second != first, "no new leader after the kill")
            #expect(leaderless < .seconds(2 * ttl), "no leader for \(leaderless), over 2x the lease TTL")
            #expect(agentFound < .seconds(2), "the agent reached the new leader after \(agentFound)")
            let acked = ledger.acknowledged.withLock { $0 }
            #expect(acked.count >= 150, "the streams stalled: \(ledger.failures.withLock { $0.prefix(5) })")

            // Every acknowledged job is there with its spec, and runs to its end.
            let admin = cluster.client()
            let stored = Dictionary(uniqueKeysWithValues: try await admin.jobs().map { ($0.id.rawValue, $0.name) })
            let missing = acked.filter { stored[$0.key] != $0.value }
            #expect(missing.isEmpty, "\(missing.count) of \(acked.count) acknowledged jobs lost: \(missing.prefix(5))")
            let expected = Set(acked.keys).union([long])
            let deadline = ContinuousClock.now + .seconds(120)
            var unfinished = expected
            while !unfinished.isEmpty && ContinuousClock.now < deadline {
                let jobs = (try? await admin.jobs()) ?? []
                unfinished = expected.subtracting(jobs.filter { $0.state == .completed }.map(\.id.rawValue))
                try await Task.sleep(for: .milliseconds(250))
            }
            if !unfinished.isEmpty {
                let kept = "/tmp/corral-failover-logs"
                try? FileManager.default.removeItem(atPath: kept)
                try? FileManager.default.copyItem(atPath: cluster.dataDir, toPath: kept)
                Issue.record(
                    "\(unfinished.count) jobs unfinished after 120 s, \(unfinished.prefix(3)); logs in \(kept)")
            }
            for id in expected.sorted() {
                let tasks = try await admin.tasks(id)
                #expect(tasks.allSatisfy { $0.attempt == 1 }, "job \(id) needed another attempt")
            }

            // The agent logs every start: one per task, none repeated.
            let log = try String(contentsOfFile: cluster.dataDir + "/a.log", encoding: .utf8)
            let starts = log.split(separator: "\n").filter { $0.contains("task started") }.compactMap { line in
                line.range(of: "allocation=").map { line[$0.upperBound...].prefix { !$0.isWhitespace } }
            }
            let repeated = Dictionary(grouping: starts) { $0 }.filter { $0.value.count > 1 }.keys
            #expect(repeated.isEmpty, "started twice: \(repeated.prefix(5))")
            let started = Set(starts.map { String($0.split(separator: ".").first ?? "") })
            #expect(started.isSuperset(of: Set(acked.keys)), "some acknowledged jobs never started")
        }
    }

    @Test("corral demo --ha --json: the leader killed mid-run, a new one, nothing lost, nothing started twice")
    func demoHA() throws {
        try requirements()
        let directory = TemporaryDirectory("corral-demo-ha")
        // The demo's own watchdog ends it 120 s past --timeout; this one is the last resort.
        let result = try runCorral(
            ["demo", "--ha", "--quick", "--json", "--data-dir", directory.path + "/demo", "--timeout", "120"],
            timeout: 300)
        let output = result.stdout
        #expect(!result.timedOut, "corral demo --ha hung: \(output)\n\(result.stderr.suffix(4000))")
        #expect(result.status == 0, "\(output)\n\(result.stderr.suffix(4000))")
        let start = try #require(output.range(of: "\n{\n"), "no JSON summary in: \(output)")
        let summary = try JSONDecoder().decode(HADemoSummary.self, from: Data(output[start.lowerBound...].utf8))
        #expect(summary.ok)
        #expect(summary.lost == 0)
        #expect(summary.duplicateStarts == 0)
        #expect(summary.acknowledged > 40)
        #expect(summary.newLeader != nil && summary.newLeader != summary.killedLeader)
        #expect(summary.leaderlessSeconds > 0 && summary.leaderlessSeconds < 10, "2x the demo's 5 s lease TTL")
        #expect(summary.workload.ok)
        #expect(output.contains("The cluster failed over without losing or repeating work."))
    }
}

extension FailoverTests {
    @Test(
        "etcd faults: one member down, the cluster goes on; two down, writes get 503; after recovery every acknowledged job is there"
    )
    func etcdMembersKilled() async throws {
        try requirements()
        try await Self.withHA("corral-etcd-faults", members: 3, schedulers: 2, ttl: 3) { cluster, etcd in
            let config = cluster.config
            try cluster.startScheduler()
            _ = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader elected")
            let tenant = cluster.client(token: config.tenants["t"]!.token)
            let ledger = SubmissionLedger()
            await ledger.stream(tenant, writer: 0, jobs: 20, stopOnFailure: true)
            #expect(ledger.count == 20)

            etcd.kill("etcd1")
            await ledger.stream(tenant, writer: 1, jobs: 20, stopOnFailure: true)
            #expect(ledger.count == 40, "one member down: \(ledger.failures.withLock { $0 })")

            etcd.kill("etcd2")
            // Without a quorum the leader's lease cannot be renewed: it steps down and no one leads.
            await ledger.stream(tenant, writer: 2, jobs: 1, stopOnFailure: true)
            let failure = ledger.failures.withLock { $0.first ?? "" }
            #expect(failure.contains("503"), "a write without an etcd quorum: \(failure)")

            try etcd.restart("etcd1")
            try etcd.restart("etcd2")
            try etcd.waitUntilHealthy(timeout: 30)
            _ = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader after etcd recovered")
            let stored = Dictionary(
                uniqueKeysWithValues: try await cluster.client().jobs().map { ($0.id.rawValue, $0.name) })
            let acked = ledger.acknowledged.withLock { $0 }
            let missing = acked.filter { stored[$0.key] != $0.value }
            #expect(missing.isEmpty, "\(missing.count) of \(acked.count) acknowledged jobs lost: \(missing.prefix(5))")
        }
    }

    @Test("a leader that stalls past its lease: another leads, and the old one follows when it comes back")
    func stalledLeader() async throws {
        try requirements()
        let ttl = 2
        try await Self.withHA("corral-stall", members: 1, schedulers: 2, ttl: ttl) { cluster, _ in
            let config = cluster.config
            try cluster.startScheduler()
            let first = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader elected")
            let tenant = cluster.client(token: config.tenants["t"]!.token)
            let ledger = SubmissionLedger()
            await ledger.stream(tenant, writer: 0, jobs: 10, stopOnFailure: true)

            cluster.pauseScheduler(first, true)
            let paused = ContinuousClock.now
            var second: Int?
            while second == nil && ContinuousClock.now - paused < .seconds(4 * ttl) {
                if let leader = await cluster.leader(), leader != first { second = leader }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(second != nil, "no new leader while the old one stalled")
            #expect(ContinuousClock.now - paused < .seconds(2 * ttl + 1))
            // A request to the stalled one would wait out its timeout: this client asks the new leader first.
            let others = cluster.schedulerURLs.enumerated().sorted { a, _ in a.offset == second }.map(\.element)
            let client = SchedulerClient(baseURL: others.joined(separator: ","), token: config.tenants["t"]!.token)
            await ledger.stream(client, writer: 1, jobs: 10, stopOnFailure: true)

            cluster.pauseScheduler(first, false)
            let old = SchedulerClient(baseURL: cluster.schedulerURLs[first], token: config.adminToken)
            var role = ""
            let resumed = ContinuousClock.now
            while role != "follower" && ContinuousClock.now - resumed < .seconds(10) {
                role = (try? await old.leader().role) ?? ""
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(role == "follower", "the old leader came back as \(role)")
            await ledger.stream(tenant, writer: 2, jobs: 10, stopOnFailure: true)
            #expect(ledger.count == 30, "\(ledger.failures.withLock { $0 })")
            let stored = Set(try await cluster.client().jobs().map(\.id.rawValue))
            #expect(stored.isSuperset(of: ledger.acknowledged.withLock { Set($0.keys) }))

            // SIGTERM: the leader revokes its lease on the way out, and the other leads at once, not after the TTL.
            let current = try #require(second)
            let stopped = ContinuousClock.now
            let ended = cluster.signalScheduler(SIGTERM, index: current)
            #expect(ended?.reason == .exit && ended?.status == 0, "a leader stopping: \(String(describing: ended))")
            let next = try await Self.leader(cluster, within: .seconds(1))
            #expect(next == first, "no leader within 1 s of the old one stopping (lease TTL \(ttl) s)")
            #expect(ContinuousClock.now - stopped < .seconds(ttl))
        }
    }
}

extension FailoverTests {
    @Test(
        "a follower copies the leader's usage history; after a failover the capacity report covers the time before it")
    func historyCarriesOver() async throws {
        try requirements()
        var config = ClusterTests.config()
        config.historyCopySeconds = 1
        try await Self.withHA("corral-history-copy", members: 1, schedulers: 2, ttl: 2, config: config) { cluster, _ in
            try cluster.startScheduler()
            let first = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader elected")
            let follower = 1 - first
            try cluster.startAgent(.init(id: "a"))
            try await cluster.waitForNodes(1)
            func history(_ index: Int) throws -> UsageHistory {
                try UsageHistory(path: cluster.dataDir + "/scheduler-\(index)/history.sqlite")
            }
            // Heartbeats every second fill the leader's history; the follower's copy keeps up.
            try await Task.sleep(for: .seconds(4))
            let leaderNewest = try #require(try await history(first).newest(family: "usage", resolution: .raw))
            var copied: Double?
            let deadline = ContinuousClock.now + .seconds(10)
            while (copied ?? 0) < leaderNewest && ContinuousClock.now < deadline {
                copied = try await history(follower).newest(family: "usage", resolution: .raw)
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect((copied ?? 0) >= leaderNewest, "the follower's copy ends at \(String(describing: copied))")
            let minutes = try await history(follower).samples(node: "a", since: 0, resolution: .minute)
            #expect(!minutes.isEmpty, "minute rows are copied too")

            let killed = Date().timeIntervalSince1970
            cluster.signalScheduler(SIGKILL, index: first)
            _ = try #require(try await Self.leader(cluster, within: .seconds(10)), "no leader after the kill")
            let json = try await cluster.client().capacityReport(since: "1h", horizon: "2m", format: "json", shapes: [])
            let report = try JSONDecoder().decode(CapacityReport.self, from: Data(json.utf8))
            #expect(report.since < killed - 3, "the report starts at \(report.since), the failover was at \(killed)")
        }
    }
}

extension FailoverTests {
    @Test(
        "a leader cut off from etcd (its namespace's link down) stops leading within the TTL; another leads; it follows once back"
    )
    func partitionedLeader() async throws {
        try requirements()
        let net = TestNetwork()
        let ns = try net.addNamespace(1)
        let ttl = 2
        // etcd listens on the host's side of the veth: the namespace reaches it only over that link.
        try await Self.withHA(
            "corral-partition", members: 1, schedulers: 3, ttl: ttl, etcdHost: net.schedulerAddress,
            namespaces: [0: (ns, net.address(1))]
        ) { cluster, _ in
            let config = cluster.config
            try cluster.startScheduler(0)
            #expect(try await Self.leader(cluster, within: .seconds(30)) == 0, "the namespaced scheduler leads first")
            try cluster.startScheduler(1)
            try cluster.startScheduler(2)
            let tenant = cluster.client(token: config.tenants["t"]!.token)
            let ledger = SubmissionLedger()
            await ledger.stream(tenant, writer: 0, jobs: 10, stopOnFailure: true)
            #expect(ledger.count == 10)

            try net.cut(1)
            let cut = ContinuousClock.now
            // Seen from inside its namespace, the old leader gives up within the TTL.
            let inside = cluster.schedulerURLs[0] + "/v1/leader"
            var role = "leader"
            while role == "leader" && ContinuousClock.now - cut < .seconds(3 * ttl) {
                let answer = try? net.run(in: 1, ["/usr/bin/curl", "-s", "-m", "1", inside])
                if let answer, let view = try? JSONDecoder().decode(LeaderView.self, from: Data(answer.utf8)) {
                    role = view.role
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(role == "candidate", "cut off, the old leader is still \(role)")
            #expect(
                ContinuousClock.now - cut < .seconds(ttl + 1), "it stopped leading after \(ContinuousClock.now - cut)")
            let next = try await Self.leader(cluster, within: .seconds(4 * ttl))
            #expect(next == 1 || next == 2, "no scheduler on the host leads")
            let others = [next ?? 1] + [1, 2].filter { $0 != next }
            let client = SchedulerClient(
                baseURL: others.map { cluster.schedulerURLs[$0] }.joined(separator: ","),
                token: config.tenants["t"]!.token)
            await ledger.stream(client, writer: 1, jobs: 10, stopOnFailure: true)
            #expect(ledger.count == 20, "\(ledger.failures.withLock { $0 })")

            // The link back: the old leader follows, and a write sent to it is not its to apply.
            try net.restore(1)
            let back = ContinuousClock.now
            while role != "follower" && ContinuousClock.now - back < .seconds(10) {
                role = (try? await SchedulerClient(baseURL: cluster.schedulerURLs[0], token: "x").leader().role) ?? ""
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(role == "follower", "back, the old leader is \(role)")
            let direct = SchedulerClient(
                baseURL: cluster.schedulerURLs[0] + "," + cluster.schedulerURLs[next ?? 1],
                token: config.tenants["t"]!.token)
            await ledger.stream(direct, writer: 2, jobs: 3, stopOnFailure: true)
            let stored = Set(try await cluster.client().jobs().map(\.id.rawValue))
            #expect(stored == ledger.acknowledged.withLock { Set($0.keys) }, "every acknowledged job, and no other")
        }
    }
    @Test("a schedule across a leader SIGKILL: the new leader makes the fire it missed, once, and no fire twice")
    func scheduleAcrossFailover() async throws {
        try requirements()
        try await Self.withHA("corral-failover-schedule", members: 1, schedulers: 2, ttl: 2) { cluster, _ in
            try cluster.startScheduler()
            let first = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader elected")
            let id = try await ClusterTests.submit(
                cluster,
                #"{"name": "ha", "tenant": "t", "command": ["/bin/true"], "resources": {"cpu": 0.1, "memory": "16Mi"},"#
                    + #" "schedule": {"cron": "*/6 * * * * *", "catchUp": "one"}}"#)
            // Kill the leader just after a fire time; the next leads within 2x the TTL, before the next fire.
            let now = Date().timeIntervalSince1970
            let fire = (now / 6).rounded(.up) * 6 + 6
            try await Task.sleep(for: .seconds(fire + 0.1 - now))
            _ = cluster.signalScheduler(SIGKILL, index: first)
            let second = try await Self.leader(cluster, within: .seconds(10))
            #expect(second != nil && second != first, "no new leader after the kill")
            try await Task.sleep(for: .seconds(fire + 12.5 - Date().timeIntervalSince1970))
            let runs = try await cluster.client().runs(id)
            let fires = runs.compactMap(\.fire)
            let expected = Array(stride(from: fires.first ?? 0, through: Int64(fire) + 12, by: 6))
            #expect(fires == expected, "each fire once, the one at the kill included (\(Int64(fire))): \(fires)")
        }
    }

    @Test("checkpoints are copied to followers: leader and node lost at once, the task resumes under the new leader")
    func checkpointCopiedToFollowers() async throws {
        try requirements()
        var config = ClusterTests.config()
        config.historyCopySeconds = 1
        config.minimumNodeTTLSeconds = 3
        try await Self.withHA("corral-failover-checkpoint", members: 1, schedulers: 2, ttl: 2, config: config) {
            cluster, _ in
            try cluster.startScheduler()
            let first = try #require(try await Self.leader(cluster, within: .seconds(30)), "no leader elected")
            try cluster.startAgent(.init(id: "a", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(1)
            let spec: [String: Any] = [
                "name": "counter", "tenant": "t", "checkpointInterval": "1s",
                "resources": ["cpu": 0.1, "memory": "16Mi"], "command": ["sh", "-c", CheckpointTests.counter],
            ]
            let job = try await ClusterTests.submit(
                cluster, String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self))
            let running = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .running }
            let allocation = try #require(running.first?.allocation)
            try cluster.startAgent(.init(id: "b", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(2)

            // At about step 80 the leader and the task's node are lost together: only the copy is left.
            let log = cluster.nodeDataDir("a") + "/logs/\(job).0.1/stdout"
            let deadline = ContinuousClock.now + .seconds(40)
            while CheckpointTests.steps(log).last ?? 0 < 80 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            cluster.signalScheduler(SIGKILL, index: first)
            cluster.signalAgent("a", SIGKILL)
            CheckpointTests.kill(cgroup: cluster.cgroupParent("a") + "/\(allocation)")
            let lostAt = CheckpointTests.steps(log).last ?? 0

            let tasks = try await ClusterTests.waitForTasks(cluster, job, timeout: .seconds(60)) {
                $0.first?.state == .completed
            }
            #expect(tasks.first?.node?.rawValue == "b")
            let second = try String(
                contentsOfFile: cluster.nodeDataDir("b") + "/logs/\(job).0.\(tasks.first?.attempt ?? 2)/stdout",
                encoding: .utf8)
            let resumed = Int(second.split(separator: "\n").first { $0.hasPrefix("resume ") }?.dropFirst(7) ?? "") ?? 0
            #expect(resumed >= lostAt - 40 && resumed > 0, "resumed at \(resumed) from the copy, lost at \(lostAt)")

            // The machine comes back: its agent finds the task ended and keeps what it left for its retention.
            try cluster.startAgent(.init(id: "a", cpu: 1, memory: "1Gi"))
            try await cluster.waitForNodes(2)
        }
    }
}
