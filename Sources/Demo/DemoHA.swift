import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import SchedulerService
import Synchronization

/// `corral demo --ha`: three etcd members, three schedulers (one elected leader) and three agents on this
/// machine; the demo's workload plus four submission streams; the leader SIGKILLed in the middle; and a
/// summary of what the failover cost: how long no scheduler led, how many jobs were acknowledged, lost,
/// or had a task started twice.
public struct HADemoSummary: Sendable, Codable {
    public var leaderlessSeconds: Double
    public var acknowledged: Int
    /// Acknowledged jobs missing afterwards, or with a different spec (must be 0).
    public var lost: Int
    /// Task starts beyond one per attempt, from the agents' logs (must be 0).
    public var duplicateStarts: Int
    /// Which scheduler led before and after.
    public var killedLeader: String
    public var newLeader: String?
    public var workload: DemoSummary
    public var ok: Bool

    public var text: String {
        let state = "scheduler state in scheduler/state.sqlite, usage history in scheduler/history.sqlite"
        let here = "cluster state in etcd/, each scheduler's usage history in scheduler-<n>/history.sqlite"
        var lines = [workload.text.replacingOccurrences(of: state, with: here), "", "Failover:"]
        lines.append("  killed the leader \(killedLeader) (SIGKILL); new leader \(newLeader ?? "none")")
        lines.append(String(format: "  no leader for %.1f s", leaderlessSeconds))
        lines.append("  jobs acknowledged \(acknowledged), lost \(lost); tasks started twice \(duplicateStarts)")
        lines.append("")
        lines.append(
            ok ? "The cluster failed over without losing or repeating work." : "The failover lost or repeated work.")
        return lines.joined(separator: "\n")
    }
}

extension Demo {
    /// Runs the HA demo; etcd, schedulers and agents are stopped before it returns.
    public static func runHA(
        _ options: Options, leaseTTL: Int = 5, say: @escaping @Sendable (String) -> Void
    ) async throws -> HADemoSummary {
        say("Starting 3 etcd members on loopback (data in \(options.dataDir)/etcd)")
        let etcd = try LocalEtcd(count: 3, directory: options.dataDir + "/etcd")
        defer { etcd.stop() }
        return try await LocalCluster.with(
            binary: options.binary, dataDir: options.dataDir, config: DemoWorkload.config(), tls: true,
            ha: .init(endpoints: etcd.endpoints, schedulers: 3, leaseTTL: leaseTTL)
        ) { cluster in
            // Nothing here may hang the demo: past its deadline and two minutes more, a watchdog says which
            // step it was in, stops every process it started and ends it.
            let step = Mutex("starting")
            let watchdog = Task {
                try await Task.sleep(for: options.deadline + .seconds(120))
                say("The demo is stuck at: \(step.withLock { $0 }); stopping everything it started")
                await cluster.shutdown()
                etcd.stop()
                exit(2)
            }
            defer { watchdog.cancel() }
            say("Starting 3 schedulers on etcd (lease TTL \(leaseTTL) s) and 3 agents; logs in \(options.dataDir)")
            try cluster.startScheduler()
            for node in DemoWorkload.nodes { try cluster.startAgent(node) }
            try await cluster.waitForNodes(DemoWorkload.nodes.count, timeout: .seconds(60))
            guard let first = await cluster.leader() else { throw LocalClusterError("no scheduler leads") }
            say("  leader: \(cluster.schedulerURLs[first]); followers redirect to it")

            var run = DemoRun(cluster: cluster, started: .now, say: say)
            say("Submitting the workload, and 4 streams of small jobs:")
            for job in DemoWorkload.jobs(quick: options.quick) { try await run.submit(job) }
            try await run.submit(DemoWorkload.overQuota)
            let streams = HAStreams(client: cluster.client(token: cluster.config.tenants["batch"]!.token))
            let writers = Task { await streams.run(writers: 4, jobs: options.quick ? 15 : 40) }
            // The kill comes while the workload runs and the streams are mid-flight.
            let failover = Task { () -> (Double, Int?) in
                let waiting = ContinuousClock.now
                while streams.acknowledged.withLock({ $0.count }) < 10 && ContinuousClock.now - waiting < .seconds(30) {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                say("Killing the leader \(cluster.schedulerURLs[first]) with SIGKILL")
                cluster.signalScheduler(SIGKILL, index: first)
                let killed = ContinuousClock.now
                while ContinuousClock.now - killed < .seconds(60) {
                    if let leader = await cluster.leader() {
                        let seconds = (ContinuousClock.now - killed).inSeconds
                        say(String(format: "  new leader %@ after %.1f s", cluster.schedulerURLs[leader], seconds))
                        return (seconds, leader)
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return ((ContinuousClock.now - killed).inSeconds, nil)
            }
            say("Progress:")
            step.withLock { $0 = "following the workload" }
            try await run.follow(deadline: options.deadline)
            step.withLock { $0 = "waiting for the submission streams" }
            await writers.value
            step.withLock { $0 = "waiting for a new leader" }
            let (leaderless, second) = await failover.value
            step.withLock { $0 = "summing up the workload" }
            let workload = try await run.summary(dataDir: options.dataDir)
            step.withLock { $0 = "checking the acknowledged jobs and the agents' starts" }

            let acknowledged = streams.acknowledged.withLock { $0 }
            let stored = Dictionary(
                uniqueKeysWithValues: try await cluster.client().jobs().map { ($0.id.rawValue, $0.name) })
            let lost =
                acknowledged.filter { stored[$0.key] != $0.value }.count
                + run.submitted.filter { stored[$0.id] == nil }.count
            let duplicates = try await duplicateStarts(cluster, dataDir: options.dataDir)
            return HADemoSummary(
                leaderlessSeconds: leaderless, acknowledged: acknowledged.count + run.submitted.count, lost: lost,
                duplicateStarts: duplicates, killedLeader: cluster.schedulerURLs[first],
                newLeader: second.map { cluster.schedulerURLs[$0] }, workload: workload,
                ok: workload.ok && lost == 0 && duplicates == 0 && second != nil)
        }
    }

    /// Starts beyond one per allocation, or more allocations started for a task than it had attempts,
    /// counted from the agents' logs ("task started allocation=<job>.<index>.<attempt>").
    static func duplicateStarts(_ cluster: LocalCluster, dataDir: String) async throws -> Int {
        var starts: [String: Int] = [:]
        for node in DemoWorkload.nodes {
            let log = (try? String(contentsOfFile: dataDir + "/\(node.id).log", encoding: .utf8)) ?? ""
            for line in log.split(separator: "\n") where line.contains("task started") {
                guard let at = line.range(of: "allocation=") else { continue }
                starts[String(line[at.upperBound...].prefix { !$0.isWhitespace }), default: 0] += 1
            }
        }
        var duplicates = starts.values.reduce(0) { $0 + $1 - 1 }
        let perTask = Dictionary(grouping: starts.keys.compactMap(AllocationID.init)) { $0.task }
        for (task, allocations) in perTask {
            let attempts =
                (try? await cluster.client().tasks(task.job.rawValue))?
                .first { $0.index == task.index }?.attempt ?? allocations.count
            duplicates += max(0, allocations.count - attempts)
        }
        return duplicates
    }
}

/// Submission streams of `/bin/true` jobs for the demo's batch tenant: what was acknowledged.
final class HAStreams: Sendable {
    let client: SchedulerClient
    let acknowledged = Mutex<[String: String]>([:])
    init(client: SchedulerClient) { self.client = client }

    func run(writers: Int, jobs: Int) async {
        await withDiscardingTaskGroup { group in
            for writer in 0..<writers {
                group.addTask {
                    for n in 0..<jobs {
                        let name = "stream\(writer)-\(n)"
                        let spec =
                            #"{"name": "\#(name)", "tenant": "batch", "command": ["/bin/true"], "resources": {"cpu": 0.1, "memory": "16Mi"}}"#
                        // A failure is no acknowledgement: that job may or may not exist.
                        if let job = try? await self.client.submit(Data(spec.utf8)) {
                            self.acknowledged.withLock { $0[job.id.rawValue] = name }
                        }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
        }
    }
}
