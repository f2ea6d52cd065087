import Foundation
import Store
import TestSupport
import Testing

@Suite struct SQLiteStoreTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func compareAndSwapAppliesOnlyWhenTheRevisionStillMatches() async throws {
        let store = try SQLiteStore(path: nil)
        let created = try await store.txn(if: [.absent("jobs/a")], then: [.put("jobs/a", Self.bytes("v1"))])
        #expect(created.succeeded)
        let again = try await store.txn(if: [.absent("jobs/a")], then: [.put("jobs/a", Self.bytes("other"))])
        #expect(!again.succeeded)
        let kv = try #require(try await store.get("jobs/a"))
        #expect(kv.value == Self.bytes("v1") && kv.version == 1 && kv.modRevision == created.revision)
        let swapped = try await store.txn(
            if: [.modRevision("jobs/a", kv.modRevision)], then: [.put("jobs/a", Self.bytes("v2"))])
        #expect(swapped.succeeded)
        let stale = try await store.txn(
            if: [.modRevision("jobs/a", kv.modRevision)], then: [.put("jobs/a", Self.bytes("lost update"))],
            else: [.put("conflicts/a", Self.bytes("1"))])
        #expect(!stale.succeeded)
        #expect(try await store.get("jobs/a")?.value == Self.bytes("v2"))
        #expect(try await store.get("conflicts/a") != nil, "the else branch runs when a compare fails")
    }

    @Test func listReturnsOnlyThePrefixInKeyOrder() async throws {
        let store = try SQLiteStore(path: nil)
        _ = try await store.txn(then: [
            .put("tasks/b", []), .put("tasks/a", []), .put("tasksX", []), .put("jobs/a", []),
        ])
        let (items, revision) = try await store.list(prefix: "tasks/", limit: nil)
        #expect(items.map(\.key) == ["tasks/a", "tasks/b"])
        #expect(revision == Revision(1))
        _ = try await store.txn(then: [.deletePrefix("tasks/")])
        #expect(try await store.list(prefix: "tasks/", limit: nil).items.isEmpty)
    }

    @Test func watchReplaysFromARevisionThenFollowsAndReportsCompaction() async throws {
        let store = try SQLiteStore(path: nil)
        let first = try await store.txn(then: [.put("jobs/1", Self.bytes("a"))])
        _ = try await store.txn(then: [.put("jobs/2", Self.bytes("b")), .put("nodes/x", [])])
        var events = store.watch(prefix: "jobs/", after: first.revision).makeAsyncIterator()
        let replayed = try #require(try await events.next())
        #expect(replayed.count == 1)
        guard case .put(let kv) = replayed[0] else { throw TestFailure("expected a put, got \(replayed)") }
        #expect(kv.key == "jobs/2")
        _ = try await store.txn(then: [.delete("jobs/1")])
        #expect(try await events.next() == [.delete(key: "jobs/1", modRevision: Revision(3))])

        try await store.compact(upTo: Revision(2))
        var late = store.watch(prefix: "jobs/", after: Revision(1)).makeAsyncIterator()
        await #expect(throws: StoreError.self) { _ = try await late.next() }
    }

    @Test func committedTransactionsSurviveReopening() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        do {
            let store = try SQLiteStore(path: path)
            for i in 0..<20 { _ = try await store.txn(then: [.put("jobs/\(i)", Self.bytes("\(i)"))]) }
        }
        let reopened = try SQLiteStore(path: path)
        let (items, revision) = try await reopened.list(prefix: "jobs/", limit: nil)
        #expect(items.count == 20)
        #expect(revision == Revision(20))
        let next = try await reopened.txn(then: [.put("jobs/x", [])])
        #expect(next.revision == Revision(21), "revisions continue after a restart")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
