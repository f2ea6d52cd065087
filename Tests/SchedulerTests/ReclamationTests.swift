import CorralModel
import CorralProtocol
import Placement
import Scheduler
import TestSupport
import Testing

/// Reclamation in the scheduler's core: a reclaimable job runs on forecast-idle capacity beyond the
/// reservations, an agent's eviction puts it back in the queue without using an attempt (only for a
/// reclaimable job), and the tenant's quota counts it apart.
@Suite struct ReclamationTests {
    static func core(quota: TenantQuota? = nil) -> SchedulerCore {
        var configuration = SchedulerCore.Configuration(
            heartbeatInterval: 1, minimumTTL: 30, quotas: quota.map { ["acme": $0] } ?? [:])
        configuration.reclamation = Feasibility(ceiling: 0.9)
        var core = SchedulerCore(configuration: configuration)
        core.register(SchedulerCoreTests.node("n1"), now: 0)
        return core
    }

    static func reclaimable(_ name: String, cpu: Double = 1, count: Int = 1) -> JobSpec {
        var spec = SchedulerCoreTests.spec(name, cpu: cpu, count: count, retry: RetryPolicy(maxAttempts: 1))
        spec.reclaimable = true
        return spec
    }

    @Test func reclaimableWorkRunsBeyondTheReservationsOnForecastIdleCapacity() throws {
        var core = Self.core()
        _ = core.heartbeat(node: "n1", reports: [], usage: NodeLoad(cpu: 0.1, memory: 0.1, io: 0), now: 1)
        // Four guaranteed cores fill n1's reservations; the forecast says it uses 10%.
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("steady", cpu: 4), id: "g", now: 1), now: 1)
        #expect(core.schedule(now: 1).count == 1)
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("more"), id: "g2", now: 1), now: 1)
        core.admit(core.makeJobRecord(Self.reclaimable("batch", count: 4), id: "b", now: 1), now: 1)
        let placed = core.schedule(now: 1)
        // (0.9 - 0.1) * 4 = 3.2 cores forecast idle, less the 4 placed since the report: none until it reports.
        #expect(placed.isEmpty, "the guaranteed core has no reservation left; the lag leaves no idle room")
        _ = core.heartbeat(node: "n1", reports: [], usage: NodeLoad(cpu: 0.1, memory: 0.1, io: 0), now: 2)
        let later = core.schedule(now: 2)
        #expect(later.count == 3, "3 reclaimable cores in 3.2 forecast idle: \(later.map(\.id))")
        #expect(later.allSatisfy { $0.id.job == "b" })
        #expect(core.blockedReason(job: "g2")?.contains("cpu short on 1") == true)
        #expect(core.usage(of: "acme").cpu == 4, "quota counts the guaranteed cores")
        #expect(core.reclaimableUsage(of: "acme")?.cpu == 3, "and the reclaimable ones apart")
    }

    @Test func anEvictionRequeuesWithoutUsingAnAttempt() throws {
        var core = Self.core()
        _ = core.heartbeat(node: "n1", reports: [], usage: NodeLoad(cpu: 0, memory: 0, io: 0), now: 1)
        core.admit(core.makeJobRecord(Self.reclaimable("batch"), id: "b", now: 1), now: 1)
        let placed = try #require(core.schedule(now: 1).first)
        let allocation = try #require(placed.allocation)
        _ = core.heartbeat(
            node: "n1", reports: [AllocationReport(id: allocation, state: .running)], usage: .idle, now: 2)
        let changed = core.heartbeat(
            node: "n1",
            reports: [
                AllocationReport(id: allocation, state: .killed, error: "evicted", evicted: "evicted: node pressure")
            ], usage: .idle, now: 3)
        let record = try #require(changed.first)
        #expect(record.state == .pending && record.machine.attemptsUsed == 0 && record.machine.evictions == 1)
        #expect(record.machine.lastError == "evicted: node pressure on n1")
        #expect(core.counters.pressureEvictions == 1)
        #expect(core.reclaimableUsage(of: "acme") == nil, "its hold was released")
        _ = core.tick(now: 3)  // an evicted task is due again at once
        #expect(core.schedule(now: 3).isEmpty, "the node that evicted it takes no reclaimable work for 60 s")
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, now: 30)
        #expect(core.schedule(now: 30).isEmpty, "still cooling")
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, now: 64)
        let again = core.schedule(now: 64)
        #expect(again.first?.machine.attempt == 2, "placed again though the job allows one attempt")
    }

    @Test func anEvictionClaimedForAGuaranteedTaskIsACrash() throws {
        var core = Self.core()
        core.admit(
            core.makeJobRecord(SchedulerCoreTests.spec("steady", retry: RetryPolicy(maxAttempts: 1)), id: "g", now: 1),
            now: 1)
        let allocation = try #require(core.schedule(now: 1).first?.allocation)
        let changed = core.heartbeat(
            node: "n1", reports: [AllocationReport(id: allocation, state: .killed, evicted: "evicted: node pressure")],
            usage: .idle, now: 2)
        #expect(changed.first?.state == .failed, "an agent may not evict guaranteed work for free")
        #expect(core.counters.pressureEvictions == 0)
    }

    @Test func reclaimableTasksHaveTheirOwnShareOfTheQuota() throws {
        var core = Self.core(quota: TenantQuota(cpu: 2))
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, now: 1)
        core.admit(core.makeJobRecord(SchedulerCoreTests.spec("steady", cpu: 2), id: "g", now: 1), now: 1)
        var placed = core.schedule(now: 1)
        _ = core.heartbeat(node: "n1", reports: [], usage: .idle, now: 2)
        core.admit(core.makeJobRecord(Self.reclaimable("batch", count: 3), id: "b", now: 2), now: 2)
        placed += core.schedule(now: 2)
        #expect(placed.filter { $0.id.job == "g" }.count == 1)
        #expect(placed.filter { $0.id.job == "b" }.count == 2, "two reclaimable cores beside two guaranteed")
        #expect(core.blockedReason(job: "b") == "waiting for tenant acme's quota")
    }
}
