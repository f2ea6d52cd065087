import Foundation
import Store
import TestSupport
import Testing

/// The leader lease and the fence: the lowest create revision leads, a lease that ends hands the lead
/// on, and a deposed leader's writes change nothing.
@Suite struct EtcdElectionTests {
    func member() throws -> EtcdServer {
        let missing = Preconditions.missing(EtcdServer.requirement)
        try #require(missing.isEmpty, "\(missing)")
        return try EtcdServer()
    }

    @Test func theFirstCandidateLeadsAndADeposedLeadersWriteIsRefusedByTheFence() async throws {
        let server = try member()
        defer { server.stop() }
        let store = EtcdStore(endpoints: [server.clientURL], prefix: "/fence/")
        let election = EtcdElection(store: store)
        let a = try await election.nominate(lease: try await election.grantLease(ttl: 10), value: "http://a")
        let b = try await election.nominate(lease: try await election.grantLease(ttl: 10), value: "http://b")
        #expect(try await election.leader()?.key == a.key)
        #expect(try await election.leader()?.value == Array("http://a".utf8))

        let asA = FencedStore(store, leaderKey: a.key, epoch: a.epoch)
        let asB = FencedStore(store, leaderKey: b.key, epoch: b.epoch)
        #expect(try await asA.txn(then: [.put("jobs/1", Array("a".utf8))]).succeeded)
        // A compare of the caller's own that fails is not a lost lead.
        #expect(try await !asA.txn(if: [.absent("jobs/1")], then: [.put("jobs/1", [])]).succeeded)

        await election.revoke(a.lease)
        #expect(try await election.leader()?.key == b.key)
        await #expect(throws: StoreError.self) { _ = try await asA.txn(then: [.put("jobs/1", Array("late".utf8))]) }
        #expect(try await store.get("jobs/1")?.value == Array("a".utf8))
        #expect(try await asB.txn(then: [.put("jobs/1", Array("b".utf8))]).succeeded)
        #expect(try await store.get("jobs/1")?.value == Array("b".utf8))
    }

    @Test func aLeaseNotRenewedEndsAndTheKeeperSaysSoBeforeEtcdDoes() async throws {
        let server = try member()
        defer { server.stop() }
        let store = EtcdStore(endpoints: [server.clientURL], prefix: "/lease/")
        let election = EtcdElection(store: store)
        let sent = ContinuousClock.now
        let lease = try await election.grantLease(ttl: 2)
        let a = try await election.nominate(lease: lease, value: "http://a")
        let keeper = EtcdLeaseKeeper(election: election, lease: lease, ttl: 2, granted: sent)
        let renewing = Task { await keeper.run() }
        try await Task.sleep(for: .seconds(3))
        #expect(keeper.holds, "renewed every TTL/3, the lease outlives its TTL")
        #expect(try await election.leader()?.key == a.key)

        renewing.cancel()
        await renewing.value
        let stopped = ContinuousClock.now
        // Polled until etcd ends the lease: the key was still there at some moment after the send of each
        // answer that shows it, so the keeper gave up first if it did so before the last such send.
        var gaveUp: ContinuousClock.Instant?
        var lastSeen = stopped
        while true {
            if gaveUp == nil && !keeper.holds { gaveUp = .now }
            let send = ContinuousClock.now
            guard try await election.leader()?.key == a.key else { break }
            lastSeen = send
            #expect(ContinuousClock.now - stopped < .seconds(6), "etcd ends an unrenewed lease after its TTL")
            try await Task.sleep(for: .milliseconds(20))
        }
        let keeperGaveUp = try #require(gaveUp, "the keeper still holds a lease etcd has ended")
        #expect(keeperGaveUp < lastSeen, "this side gives up before etcd ends the lease")
    }

    @Test func aChangeOverTheTransactionLimitsGoesInSeveralWholeTransactions() async throws {
        let server = try member()
        defer { server.stop() }
        let store = EtcdStore(endpoints: [server.clientURL], prefix: "/batches/")
        let ops = (0..<300).map { Op.put("tasks/\($0)", Array(repeating: 1, count: 10_000)) }
        try await store.apply(ops)
        #expect(try await store.list(prefix: "tasks/", limit: nil).items.count == 300)
        try await store.apply((0..<300).map { Op.delete("tasks/\($0)") })
        #expect(try await store.list(prefix: "tasks/", limit: nil).items.isEmpty)
    }
}
