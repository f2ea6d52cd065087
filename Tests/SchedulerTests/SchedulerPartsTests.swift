import CorralModel
import CorralProtocol
import TestSupport
import Testing

@testable import Scheduler

/// The parts `SchedulerCore` is made of, each on its own.
@Suite struct SchedulerPartsTests {
    static func spec(count: Int = 2, tenant: String = "acme") -> JobSpec {
        JobSpec(
            name: "work", tenant: tenant, command: ["/bin/true"], resources: Resources(cpu: 1, memory: 64 << 20),
            count: count)
    }

    static func record(_ task: TaskID, placedOn node: NodeID?) -> TaskRecord {
        var record = TaskRecord(id: task, machine: TaskMachine(maxAttempts: 3), updatedAt: 0)
        if let node {
            _ = record.machine.handle(.placed(node: node))
            record.allocation = AllocationID(task: task, attempt: record.machine.attempt)
        }
        return record
    }

    // MARK: TaskTable

    @Test func theTaskTableIndexesPlacedAllocationsAndForgetsThemWhenReleased() {
        var table = TaskTable()
        let job = table.makeJob(Self.spec(), id: "j1", now: 0)
        #expect(job.sequence == 1)
        let t0 = TaskID(job: "j1", index: 0)
        let t1 = TaskID(job: "j1", index: 1)
        table.insert(job, tasks: [Self.record(t0, placedOn: "n1"), Self.record(t1, placedOn: nil)])
        #expect(table.tasks(of: "j1").map(\.id) == [t0, t1])
        #expect(table.task(of: "j1.0.1") == t0)
        #expect(table.placed(on: "n1") == [t0])
        #expect(table.makeJob(Self.spec(), id: "j2", now: 0).sequence == 2, "sequences go on after inserted jobs")

        var released = table[t0]!
        _ = released.machine.handle(.exited(code: 0, detail: nil))
        released.allocation = nil
        table.update(released)
        #expect(table.task(of: "j1.0.1") == nil)
        #expect(table.placed(on: "n1").isEmpty)
    }

    @Test func theTaskTableListsDeadLettersAndKeepsCancellation() {
        var table = TaskTable()
        let job = table.makeJob(Self.spec(count: 1), id: "j1", now: 0)
        let task = TaskID(job: "j1", index: 0)
        var record = TaskRecord(id: task, machine: TaskMachine(maxAttempts: 1), updatedAt: 0)
        _ = record.machine.handle(.placed(node: "n1"))
        _ = record.machine.handle(.crashed("boom"))
        table.insert(job, tasks: [record])
        #expect(table.deadLetters.map(\.id) == [task])
        table.markCancelled("j1")
        #expect(table.job("j1")?.cancelled == true)
    }

    // MARK: QuotaLedger

    @Test func theQuotaLedgerAdmitsUpToTheQuotaAndAgainAfterARelease() {
        var ledger = QuotaLedger(quotas: ["acme": TenantQuota(cpu: 2, runningTasks: 5)])
        let task = Resources(cpu: 1, memory: 64 << 20)
        #expect(
            ledger.rejection(of: JobSpec(name: "big", tenant: "acme", command: ["x"], resources: .init(cpu: 3)))
                != nil)
        #expect(ledger.rejection(of: Self.spec()) == nil)
        ledger.hold(task, tenant: "acme")
        #expect(ledger.admits(task, tenant: "acme"))
        ledger.hold(task, tenant: "acme")
        #expect(!ledger.admits(task, tenant: "acme"), "two cores held of two")
        #expect(ledger.admits(task, tenant: "globex"), "a tenant without a quota is not limited")
        ledger.release(task, tenant: "acme")
        #expect(ledger.admits(task, tenant: "acme"))
        #expect(ledger.usage(of: "acme").runningTasks == 1)
        #expect(ledger.tenants == ["acme"])
    }

    // MARK: NodeRegistry

    static func allocation(_ id: AllocationID) -> Allocation {
        Allocation(id: id, tenant: "acme", command: ["/bin/true"], resources: Resources())
    }

    @Test func theNodeRegistryHandsOutOrdersOnceAndResendsWhatWasNeverConfirmed() {
        var nodes = NodeRegistry()
        let record = NodeRecord(id: "n1", capacity: ResourceVector(cpuMillis: 1000, memory: 1 << 30))
        #expect(nodes.register(record, at: 0).isEmpty)
        nodes.send(Self.allocation("j1.0.1"), to: "n1")
        nodes.kill("j0.0.1", on: "n1")
        #expect(nodes.hasOrders("n1"))
        let orders = nodes.takeOrders("n1", now: 1, interval: 5)
        #expect(orders.allocations.map(\.id) == ["j1.0.1"])
        #expect(orders.kills == ["j0.0.1"])
        #expect(orders.heartbeatIntervalSeconds == 5)
        #expect(!nodes.hasOrders("n1"))
        #expect(nodes.unconfirmed(on: "n1", reported: [], now: 5, interval: 5).isEmpty, "not overdue yet")
        #expect(nodes.unconfirmed(on: "n1", reported: [], now: 6.1, interval: 5).map(\.id) == ["j1.0.1"])
        #expect(nodes.unconfirmed(on: "n1", reported: [], now: 20, interval: 5).isEmpty, "returned once")
    }

    @Test func theNodeRegistryReportsAnAllocationForgottenOnlyAfterAnIntervalUnmentioned() {
        var nodes = NodeRegistry()
        _ = nodes.register(NodeRecord(id: "n1", capacity: ResourceVector(cpuMillis: 1000, memory: 1 << 30)), at: 0)
        nodes.confirmRunning("j1.0.1", on: "n1")
        let running: (AllocationID) -> Bool = { _ in true }
        #expect(nodes.forgotten(on: "n1", reported: [], now: 10, interval: 5, stillRunningHere: running).isEmpty)
        #expect(nodes.forgotten(on: "n1", reported: [], now: 15, interval: 5, stillRunningHere: running).isEmpty)
        #expect(
            nodes.forgotten(on: "n1", reported: [], now: 15.1, interval: 5, stillRunningHere: running) == ["j1.0.1"])
        #expect(nodes.takeOrders("n1", now: 16, interval: 5).kills == ["j1.0.1"], "and it is killed on the node")
    }

    @Test func aNodeThatRegistersAgainKeepsItsQueuedOrdersAndComesBackReady() {
        var nodes = NodeRegistry()
        let record = NodeRecord(id: "n1", capacity: ResourceVector(cpuMillis: 1000, memory: 1 << 30))
        _ = nodes.register(record, at: 0)
        nodes.send(Self.allocation("j1.0.1"), to: "n1")
        #expect(nodes.handle(.tick(at: 100, ttl: 15), node: "n1") == [.markDown])
        #expect(nodes.register(record, at: 101) == [.markReady])
        #expect(nodes["n1"]?.machine.isReady == true)
        #expect(nodes.takeOrders("n1", now: 102, interval: 5).allocations.map(\.id) == ["j1.0.1"])
    }
}
