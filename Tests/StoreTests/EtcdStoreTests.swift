import Foundation
import Store
import TestSupport
import Testing

/// What only the etcd backend has: several endpoints, and etcd being gone.
@Suite struct EtcdStoreTests {
    @Test func anEndpointThatRefusesConnectionsIsPassedOverAndNoneLeftIsUnavailable() async throws {
        let missing = Preconditions.missing(EtcdServer.requirement)
        try #require(missing.isEmpty, "\(missing)")
        let server = try EtcdServer()
        defer { server.stop() }
        let dead = "http://127.0.0.1:\(EtcdServer.freePort())"
        let store = EtcdStore(endpoints: [dead, server.clientURL], prefix: "/failover/")
        let written = try await store.txn(if: [], then: [Op.put("jobs/a", Array("v".utf8))], else: [])
        #expect(written.succeeded)
        #expect(try await store.get("jobs/a")?.value == Array("v".utf8))

        server.stop()
        await #expect {
            _ = try await store.get("jobs/a")
        } throws: { error in
            guard case .unavailable = error as? StoreError else { return false }
            return true
        }
    }

    @Test func aLargeListingIsReadInPagesAtOneRevision() async throws {
        let missing = Preconditions.missing(EtcdServer.requirement)
        try #require(missing.isEmpty, "\(missing)")
        let server = try EtcdServer()
        defer { server.stop() }
        let store = EtcdStore(endpoints: [server.clientURL], prefix: "/pages/", page: 3)
        try await store.apply((0..<10).map { Op.put("tasks/\($0)", Array("\($0)".utf8)) })
        try await store.put("tasksz", [1])  // past the prefix's range
        let (items, revision) = try await store.list(prefix: "tasks/", limit: nil)
        #expect(items.map(\.key) == (0..<10).map { "tasks/\($0)" }.sorted())
        #expect(revision == (try await store.get("tasksz"))?.modRevision)
        #expect(try await store.list(prefix: "tasks/", limit: 5).items.count == 5)
        #expect(try await store.list(prefix: "tasks/", limit: 0).items.isEmpty)
    }
}
