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
/// it acknowledged with 201 must be there after the restart, with its spec.
@Suite(.serialized, .enabled(if: Preconditions.met(.root)), .timeLimit(.minutes(3)))
struct DurabilityTests {
    @Test("every job acknowledged before a SIGKILL in the middle of a submission stream is there after the restart")
    func acknowledgedJobsSurviveSIGKILL() async throws {
        try #require(Preconditions.missing(.root).isEmpty, "\(Preconditions.missing(.root))")
        try #require(
            FileManager.default.isExecutableFile(atPath: ClusterTests.binary),
            "\(ClusterTests.binary) missing: run `swift build` before the tests")
        let directory = TemporaryDirectory("corral-durability")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try await cluster.waitForScheduler()
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
}
