import Foundation
import Store
import TestSupport
import Testing

/// What every `StateStore` promises, run against each backend: the embedded SQLite store, and etcd (one
/// member on loopback, Debian's etcd-server) through its v3 JSON gateway.
@Suite struct StateStoreContractTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test(arguments: StoreBackend.allCases)
    func compareAndSwapAppliesOnlyWhenTheRevisionStillMatches(_ backend: StoreBackend) async throws {
        let (store, etcd) = try backend.make()
        defer { etcd?.stop() }
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

    @Test(arguments: StoreBackend.allCases)
    func listReturnsOnlyThePrefixInKeyOrder(_ backend: StoreBackend) async throws {
        let (store, etcd) = try backend.make()
        defer { etcd?.stop() }
        let written = try await store.txn(then: [
            .put("tasks/b", []), .put("tasks/a", []), .put("tasksX", []), .put("jobs/a", []),
        ])
        let (items, revision) = try await store.list(prefix: "tasks/", limit: nil)
        #expect(items.map(\.key) == ["tasks/a", "tasks/b"])
        #expect(revision == written.revision)
        _ = try await store.txn(then: [.deletePrefix("tasks/")])
        #expect(try await store.list(prefix: "tasks/", limit: nil).items.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func watchReplaysFromARevisionThenFollowsAndReportsCompaction(_ backend: StoreBackend) async throws {
        let (store, etcd) = try backend.make()
        defer { etcd?.stop() }
        let first = try await store.txn(then: [.put("jobs/1", Self.bytes("a"))])
        let second = try await store.txn(then: [.put("jobs/2", Self.bytes("b")), .put("nodes/x", [])])
        var events = store.watch(prefix: "jobs/", after: first.revision).makeAsyncIterator()
        let replayed = try #require(try await events.next())
        #expect(replayed.count == 1)
        guard case .put(let kv) = replayed[0] else { throw TestFailure("expected a put, got \(replayed)") }
        #expect(kv.key == "jobs/2")
        let deleted = try await store.txn(then: [.delete("jobs/1")])
        #expect(try await events.next() == [.delete(key: "jobs/1", modRevision: deleted.revision)])

        try await store.compact(upTo: second.revision)
        var late = store.watch(prefix: "jobs/", after: first.revision).makeAsyncIterator()
        await #expect(throws: StoreError.self) { _ = try await late.next() }
    }

    @Test(arguments: StoreBackend.allCases)
    func aFenceOnACreateRevisionOrAValueRefusesOnceTheKeyWasReplaced(_ backend: StoreBackend) async throws {
        let (store, etcd) = try backend.make()
        defer { etcd?.stop() }
        let elected = try await store.txn(if: [.absent("leader")], then: [.put("leader", Self.bytes("a"))])
        let fence = Compare.createRevision("leader", elected.revision)
        #expect(try await store.txn(if: [fence, .value("leader", Self.bytes("a"))], then: [.put("x", [])]).succeeded)
        // The key goes and comes back (another leader): same value, new create revision; the old fence fails.
        _ = try await store.txn(then: [.delete("leader")])
        _ = try await store.txn(if: [.absent("leader")], then: [.put("leader", Self.bytes("a"))])
        #expect(!(try await store.txn(if: [fence], then: [.put("y", [])]).succeeded))
        #expect(!(try await store.txn(if: [.value("leader", Self.bytes("b"))], then: [.put("y", [])]).succeeded))
        #expect(try await store.get("y") == nil)
    }

    @Test(arguments: StoreBackend.allCases)
    func aPrefixDeleteIsOneBatchOfEventsAndListHonoursItsLimit(_ backend: StoreBackend) async throws {
        let (store, etcd) = try backend.make()
        defer { etcd?.stop() }
        let written = try await store.txn(then: (0..<5).map { .put("tasks/j/\($0)", Self.bytes("\($0)")) })
        #expect(try await store.list(prefix: "tasks/", limit: 2).items.map(\.key) == ["tasks/j/0", "tasks/j/1"])
        var events = store.watch(prefix: "tasks/", after: written.revision).makeAsyncIterator()
        let deleted = try await store.txn(then: [.deletePrefix("tasks/j/")])
        let batch = try #require(try await events.next())
        #expect(batch == (0..<5).map { .delete(key: "tasks/j/\($0)", modRevision: deleted.revision) })
    }
}

enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, etcd

    var testDescription: String { rawValue }

    /// A fresh store; for etcd also the member, which the caller stops.
    func make() throws -> (any StateStore, EtcdServer?) {
        switch self {
        case .sqlite: return (try SQLiteStore(path: nil), nil)
        case .etcd:
            let missing = Preconditions.missing(EtcdServer.requirement)
            try #require(missing.isEmpty, "\(missing)")
            let server = try EtcdServer()
            return (EtcdStore(endpoints: [server.clientURL], prefix: "/test-\(UInt32.random(in: 0 ... .max))/"), server)
        }
    }
}
