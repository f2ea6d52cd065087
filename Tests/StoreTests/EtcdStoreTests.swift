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
}
