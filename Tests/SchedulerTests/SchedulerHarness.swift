import CorralModel
import CorralProtocol
import Logging
import Scheduler
import Store
import Synchronization
import TestSupport
import Testing

final class TestClock: Sendable {
    let time: Mutex<Double>
    init(_ time: Double) { self.time = Mutex(time) }
}

/// A scheduler on `store` whose clock the test moves, with helpers for what agents report.
final class SchedulerHarness: Sendable {
    let store: SQLiteStore
    let clock: TestClock
    let scheduler: Scheduler
    /// Allocations handed out in answers to the harness's heartbeats, not yet started.
    let handed = Mutex<[Allocation]>([])

    init(
        store: SQLiteStore? = nil, at time: Double = 1000,
        configure: (inout SchedulerCore.Configuration) -> Void = { _ in }
    ) async throws {
        self.store = try store ?? SQLiteStore(path: nil)
        let clock = TestClock(time)
        self.clock = clock
        var configuration = SchedulerCore.Configuration()
        configuration.restartGrace = 0
        configure(&configuration)
        scheduler = Scheduler(
            store: self.store, history: nil, configuration: configuration, logger: Logger(label: "test"),
            now: { clock.time.withLock { $0 } })
        try await scheduler.start()
    }

    var now: Double { clock.time.withLock { $0 } }

    /// Moves the clock to `end` in quarter seconds (or `step`), ticking at each (as `run()` does).
    func run(until end: Double, step: Double = 0.25) async throws {
        while now < end {
            clock.time.withLock { $0 = min($0 + step, end) }
            try await scheduler.tick()
        }
    }

    func submit(
        _ name: String, cron: String, zone: String = "UTC", overlap: JobSchedule.Overlap = .allow,
        catchUp: JobSchedule.CatchUp = .none, deadline: Duration? = nil, keepRuns: Int = 20
    ) async throws -> JobRecord {
        var spec = SchedulerCoreTests.spec(name)
        spec.schedule = JobSchedule(
            cron: try CronExpression(cron), timeZone: zone, overlap: overlap, catchUp: catchUp,
            startingDeadline: deadline, keepRuns: keepRuns)
        return try await scheduler.submit(spec)
    }

    func fires(of id: JobID) async -> [Int64] { await scheduler.runs(of: id).compactMap(\.fire) }

    func state(of id: JobID) async throws -> ScheduleState { try #require(await scheduler.schedule(id)).state }

    /// Runs every allocation the node has been handed (by a poll now, or in a heartbeat's answer) and
    /// reports them running.
    func startAll(on node: NodeID = "n1") async throws -> [Allocation] {
        let orders = try await scheduler.poll(node: node, timeout: .milliseconds(1))
        let allocations =
            handed.withLock { handed in
                defer { handed = [] }
                return handed
            } + orders.allocations
        try await beat(allocations.map { .init(id: $0.id, state: .running) }, on: node)
        return allocations
    }

    func finish(_ allocations: [Allocation], exitCode: Int32 = 0, on node: NodeID = "n1") async throws {
        try await beat(allocations.map { .init(id: $0.id, state: .exited, exitCode: exitCode) }, on: node)
    }

    /// A heartbeat with these reports; allocations in its answer are kept for `startAll`.
    func beat(_ reports: [AllocationReport], on node: NodeID) async throws {
        let orders = try await scheduler.heartbeat(node: node, reports: reports, usage: .idle)
        handed.withLock { $0 += orders.allocations }
    }
}
