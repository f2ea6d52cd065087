import CorralModel
import Logging
import Scheduler
import Store
import TestSupport
import Testing

/// Two schedulers on one etcd: the deposed leader, which has not noticed yet, changes nothing; the new
/// leader loads what the old one acknowledged.
@Suite struct LeadershipTests {
    @Test func aDeposedLeaderThatHasNotNoticedCannotAcknowledgeAJob() async throws {
        let missing = Preconditions.missing(EtcdServer.requirement)
        try #require(missing.isEmpty, "\(missing)")
        let server = try EtcdServer()
        defer { server.stop() }
        let store = EtcdStore(endpoints: [server.clientURL], prefix: "/leaders/")
        let election = EtcdElection(store: store)
        let a = try await election.nominate(lease: try await election.grantLease(ttl: 30), value: "http://a")
        let b = try await election.nominate(lease: try await election.grantLease(ttl: 30), value: "http://b")

        func scheduler() -> Scheduler {
            Scheduler(
                store: store, history: nil, configuration: SchedulerCore.Configuration(), logger: Logger(label: "test"))
        }
        let old = scheduler()
        try await old.lead(store: FencedStore(store, leaderKey: a.key, epoch: a.epoch))
        let first = try await old.submit(SchedulerCoreTests.spec("before"))

        // The old leader's lease ends (a partition, a long pause); it has not noticed and still acts.
        await election.revoke(a.lease)
        let new = scheduler()
        try await new.lead(store: FencedStore(store, leaderKey: b.key, epoch: b.epoch))
        #expect(await new.job(first.id) != nil, "the new leader loads what the old one acknowledged")

        await #expect(throws: StoreError.self) { _ = try await old.submit(SchedulerCoreTests.spec("late")) }
        let stored = try await store.list(prefix: StoreKeys.jobs, limit: nil).items
        #expect(stored.count == 1, "the fence kept the deposed leader's job out of the store")
        _ = try await new.submit(SchedulerCoreTests.spec("after"))
        #expect(try await store.list(prefix: StoreKeys.jobs, limit: nil).items.count == 2)
        await old.depose()
        await new.depose()
    }
}
