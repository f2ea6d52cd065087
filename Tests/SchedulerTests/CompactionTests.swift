import CorralModel
import Logging
import Scheduler
import Store
import Synchronization
import Testing

/// The scheduler compacts the store's history once it is older than the retention, and not before.
@Suite struct CompactionTests {
    @Test func historyOlderThanTheRetentionIsCompactedAndNewerIsKept() async throws {
        let store = try SQLiteStore(path: nil)
        let clock = Mutex(1000.0)
        let scheduler = Scheduler(
            store: store, history: nil, configuration: SchedulerCore.Configuration(), logger: Logger(label: "test"),
            now: { clock.withLock { $0 } })
        try await scheduler.start()
        _ = try await scheduler.submit(SchedulerCoreTests.spec("first"))
        try await scheduler.compactIfDue()
        let marked = try await store.list(prefix: "", limit: 1).revision
        _ = try await scheduler.submit(SchedulerCoreTests.spec("second"))

        clock.withLock { $0 += 100 }
        try await scheduler.compactIfDue()
        #expect(try await firstEvent(store, after: .zero) == nil, "history of 100 s ago is kept")

        clock.withLock { $0 += 250 }
        try await scheduler.compactIfDue()
        let ended = try await firstEvent(store, after: .zero)
        guard case .compacted(let upTo) = ended else {
            Issue.record("history 350 s old should be compacted, the watch ended with \(String(describing: ended))")
            return
        }
        #expect(upTo == marked)
        #expect(try await firstEvent(store, after: marked) == nil, "what came after the mark is kept")
        await scheduler.depose()
    }

    /// How a watch from `after` ends when replayed: nil when it replays, or its compaction error.
    func firstEvent(_ store: SQLiteStore, after: Revision) async throws -> StoreError? {
        let watch = store.watch(prefix: "", after: after)
        do {
            for try await _ in watch { return nil }
        } catch let error as StoreError {
            return error
        }
        return nil
    }
}
