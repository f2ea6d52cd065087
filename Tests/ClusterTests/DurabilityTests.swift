import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService
import Synchronization
import TestSupport
import Testing

/// A `corral scheduler` process killed with SIGKILL in the middle of a stream of submissions: every job
/// it acknowledged with 201 must be there after the restart, with its spec; and in the middle of a
/// schedule's fires: each fire runs once.
@Suite(.serialized, .enabled(if: Preconditions.met(.root)), .timeLimit(.minutes(3)))
struct DurabilityTests {
    /// `body` with a started `corral scheduler` on a data directory of its own.
    static func withScheduler(_ name: String, _ body: (LocalCluster) async throws -> Void) async throws {
        try #require(Preconditions.missing(.root).isEmpty, "\(Preconditions.missing(.root))")
        try #require(
            FileManager.default.isExecutableFile(atPath: ClusterTests.binary),
            "\(ClusterTests.binary) missing: run `swift build` before the tests")
        let directory = TemporaryDirectory(name)
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try await cluster.waitForScheduler()
            try await body(cluster)
        }
    }

    @Test("every job acknowledged before a SIGKILL in the middle of a submission stream is there after the restart")
    func acknowledgedJobsSurviveSIGKILL() async throws {
        try await Self.withScheduler("corral-durability") { cluster in
            let config = cluster.config
            let client = cluster.client(token: config.tenants["t"]!.token)
            let ledger = SubmissionLedger()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask { await ledger.stream(client, writer: writer, jobs: 5000, stopOnFailure: true) }
                }
                // Kill while all four writers have requests in flight.
                try await ledger.wait(for: 200)
                cluster.signalScheduler(SIGKILL)
                try await group.waitForAll()
            }
            let acked = ledger.acknowledged.withLock { $0 }
            #expect(acked.count >= 200, "only \(acked.count) acknowledged before the kill")
            #expect(ledger.failures.withLock { $0.count } == 4, "every writer should have seen the kill")

            try cluster.startScheduler()
            try await cluster.waitForScheduler()
            let stored = Dictionary(
                uniqueKeysWithValues: try await cluster.client().jobs().map { ($0.id.rawValue, $0.name) })
            let missing = acked.filter { stored[$0.key] != $0.value }
            #expect(missing.isEmpty, "\(missing.count) of \(acked.count) acknowledged jobs lost: \(missing.prefix(5))")
            #expect(stored.count >= acked.count)
        }
    }

    /// SIGKILLed just after fire times of a schedule and started again at once: each fire time has exactly
    /// one run, whether the kill came before or after the fire was stored.
    @Test("a schedule's fires across SIGKILLs of the scheduler: zero duplicates, zero missing")
    func firesSurviveSIGKILLExactlyOnce() async throws {
        try await Self.withScheduler("corral-schedule-crash") { cluster in
            let id = try await ClusterTests.submit(
                cluster,
                #"{"name": "tick", "tenant": "t", "command": ["/bin/true"], "resources": {"cpu": 0.1, "memory": "16Mi"},"#
                    + #" "schedule": {"cron": "*/4 * * * * *", "catchUp": "one"}}"#)
            // Kill at several offsets after a fire time: some before the fire is stored, some after.
            for offset in [0.05, 0.2, 0.35, 0.6, 0.1] {
                let now = Date().timeIntervalSince1970
                let fire = (now / 4).rounded(.up) * 4
                try await Task.sleep(for: .seconds(fire + offset - now))
                _ = cluster.signalScheduler(SIGKILL)
                try cluster.startScheduler()
                try await cluster.waitForScheduler()
            }
            try await Task.sleep(for: .seconds(4.5))
            let runs = try await cluster.client().runs(id)
            let fires = runs.compactMap(\.fire)
            #expect(Set(fires).count == fires.count, "a fire ran twice: \(fires)")
            let first = try #require(fires.first)
            let last = try #require(fires.last)
            let expected = Array(stride(from: first, through: last, by: 4))
            #expect(fires == expected, "every fire from the first to the last ran once: \(fires)")
            #expect(fires.count >= 6, "fires: \(fires)")
            #expect(runs.allSatisfy { $0.name == "tick-\($0.fire ?? 0)" })
        }
    }
}
