/// Scheduler: admission, the priority queue, each task's and node's state machine, retries with
/// backoff, tenant quotas and the placement loop, over a `StateStore`. `SchedulerCore` is the state and
/// its rules (a `TaskTable`, a `NodeRegistry`, a `QuotaLedger`, `Timers`, the placement view), with time
/// passed in; the `Scheduler` actor adds durability. Knows nothing of HTTP or command lines; its wire
/// types are CorralProtocol's.
import CorralModel
import CorralProtocol
import Foundation
import Logging
import Placement
import Store

/// The scheduler service: `SchedulerCore` plus durability. Every change is written to the `StateStore`
/// before anyone hears of it: a job is acknowledged after its record is durable, an allocation is
/// handed to an agent after its task record is.
public actor Scheduler {
    /// The store; under an elected leader, the fenced view `lead(store:)` brought.
    var store: any StateStore
    public nonisolated let history: UsageHistory?
    /// Tasks' latest checkpoints (nil: none are kept, as in tests without a data directory).
    public nonisolated let checkpoints: CheckpointStore?
    let logger: Logger
    let now: @Sendable () -> Double
    var core: SchedulerCore
    var waiters: [NodeID: [CheckedContinuation<Void, Never>]] = [:]
    /// Set by `shutdown()`: long-polls are refused, so that the server can drain.
    var stopping = false
    /// Each running allocation's last CPU-time counter and when it came, for its rate of use.
    var cpuCounters: [AllocationID: (time: Double, usec: UInt64)] = [:]
    /// When ended jobs were last looked at for removal.
    var lastSweep: Double = 0
    /// The store's revision at each sweep: history older than `compactionRetention` is compacted away.
    var revisionMarks: [(time: Double, revision: Revision)] = []
    /// How long the store keeps old revisions (etcd's history; a watcher further behind relists).
    static let compactionRetention = 300.0
    /// When this scheduler began to act (started, or was elected): fire times before it passed with no
    /// scheduler, and only `catchUp: one` runs one of them.
    var leadingSince: Double = 0
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()
    /// Which alerts fire, and what was sent of them.
    var alertEngine = AlertEngine()
    /// How long the store's transactions take (`/metrics`).
    public nonisolated let storeLatency = TransactionLatency()

    /// The state `/metrics` shows, now.
    public func metricsSnapshot() -> SchedulerCore.MetricsSnapshot { core.metricsSnapshot(now: now()) }

    public init(
        store: any StateStore, history: UsageHistory?, configuration: SchedulerCore.Configuration, logger: Logger,
        checkpoints: CheckpointStore? = nil, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.checkpoints = checkpoints
        self.store = MeasuredStore(store, latency: storeLatency)
        self.history = history
        self.logger = logger
        self.now = now
        self.core = SchedulerCore(configuration: configuration)
    }

    /// Loads nodes, jobs and task records from the store and re-queues what was pending.
    public func start() async throws {
        leadingSince = now()
        core = try await SchedulerCore.loaded(from: store, configuration: core.configuration, now: now()) {
            [logger] key, why in
            logger.error(
                "skipped a stored node record that fails validation", metadata: ["key": "\(key)", "why": "\(why)"])
        }
        logger.info(
            "scheduler state loaded", metadata: ["jobs": "\(core.allJobs.count)", "nodes": "\(core.nodes.count)"])
        // Jobs whose upstream jobs ended before the restart are settled now (a decision not yet stored).
        try await persist([])
        try await schedule()
    }

    /// Becomes the scheduler of the cluster (an elected leader): state is loaded from `store`, the leader's
    /// fenced view, and every node gets the grace period of a restart. `run()` is the caller's to start.
    public func lead(store: any StateStore) async throws {
        self.store = MeasuredStore(store, latency: storeLatency)
        stopping = false
        try await start()
    }

    /// Stops acting at once (the lease is gone or going): long-polls are answered and refused, and the state
    /// is dropped, to be loaded afresh by the next `lead`. Writes still under way fail at the fence.
    public func depose() {
        shutdown()
        core = SchedulerCore(configuration: core.configuration)
        cpuCounters = [:]
    }

    // MARK: Jobs

    /// Validates against the tenant's quota, makes the job durable, then queues its tasks.
    public func submit(_ spec: JobSpec) async throws -> JobRecord {
        if let why = core.rejection(of: spec) { throw SchedulerError.overQuota(why) }
        if let schedule = spec.schedule { return try await submitSchedule(schedule, spec) }
        var spec = spec
        var nodes: [NodeID]?
        if spec.placement == .eachNode {
            guard let broadcast = core.broadcast(spec) else { throw SchedulerError.noNodes(Self.noNodes(spec)) }
            (spec, nodes) = (broadcast.spec, broadcast.nodes)
        }
        if let why = core.overLimit(spec) { throw SchedulerError.overLimit(why) }
        var record = core.makeJobRecord(spec, id: Self.newJobID(), now: now())
        record.nodes = nodes
        record.upstream = try resolve(spec)
        _ = try await store.txn(
            if: [.absent(StoreKeys.job(record.id))], then: [.put(StoreKeys.job(record.id), try encode(record))])
        core.admit(record, now: now())
        if record.upstream != nil { try await persist([]) }
        // Acknowledged now that it is durable; placement follows without holding up the client.
        Task {
            do { try await self.schedule() } catch {
                self.logger.error("placement after a submission failed", metadata: ["error": "\(error)"])
            }
        }
        return record
    }

    public func job(_ id: JobID) -> JobRecord? { core.job(id) }
    public func tasks(of job: JobID) -> [TaskRecord] { core.tasks(of: job) }
    public func jobs(tenant: String?) -> [JobRecord] {
        (core.allSchedules + core.allJobs).filter { tenant == nil || $0.spec.tenant == tenant }
    }
    public func blockedReason(job: JobID) -> String? { core.blockedReason(job: job) }
    public func usage(of tenant: String) -> TenantUsage { core.usage(of: tenant) }
    public func reclaimableUsage(of tenant: String) -> TenantUsage? { core.reclaimableUsage(of: tenant) }
    public func quota(of tenant: String) -> TenantQuota? { core.configuration.quotas[tenant] }
    public var deadLetters: [TaskRecord] { core.deadLetters }
    public var nodes: [NodeStatus] { core.nodeStatuses }

    /// Changes a job's count (`corral job scale`): new tasks are placed, those past the count killed.
    public func scale(job id: JobID, to count: Int) async throws -> JobRecord? {
        guard let (job, changed) = core.scale(job: id, to: count, now: now()) else { return nil }
        try await persist(changed, also: [.put(StoreKeys.job(id), try encode(job))])
        wakeAll()
        Task {
            do { try await self.schedule() } catch {
                self.logger.error("placement after scaling failed", metadata: ["error": "\(error)"])
            }
        }
        return job
    }

    public func cancel(job id: JobID) async throws -> JobRecord? {
        guard let job = core.job(id) else { return nil }
        if job.spec.schedule != nil { return try await cancelSchedule(job) }
        let changed = core.cancel(job: id, now: now())
        var cancelled = job
        cancelled.cancelled = true
        try await persist(changed, also: [.put(StoreKeys.job(id), try encode(cancelled))])
        wakeAll()
        return core.job(id)
    }

    // MARK: Agents

    /// Who registers a node: its agent with the bootstrap token and a new credential (only a node id not
    /// yet claimed), or the holder of the node's own credential.
    public enum Claim: Sendable, Equatable {
        case bootstrap(credentialDigest: String)
        case holder(NodeID)
    }

    public func register(_ record: NodeRecord, claim: Claim) async throws -> AgentOrders {
        var record = record
        let existing = core.record(of: record.id)
        switch claim {
        case .bootstrap(let digest):
            // A record without a digest predates node credentials: its agent claims it once.
            if existing?.credentialDigest != nil { throw SchedulerError.nodeClaimed(record.id.rawValue) }
            record.credentialDigest = digest
        case .holder(let node):
            guard node == record.id, let existing else { throw SchedulerError.nodeClaimed(record.id.rawValue) }
            record.credentialDigest = existing.credentialDigest
        }
        record.registeredAt = now()
        record.drain = existing?.drain  // an agent's restart does not end its node's drain
        _ = try await store.txn(then: [.put(StoreKeys.node(record.id), try encode(record))])
        core.register(record, now: now())
        logger.info("node registered", metadata: ["node": "\(record.id)"])
        try await schedule()
        return core.takeOrders(node: record.id, now: now())
    }

    public func heartbeat(node: NodeID, reports: [AllocationReport], usage: NodeLoad, diskFull: Bool = false)
        async throws -> AgentOrders
    {
        guard core.isRegistered(node) else { throw SchedulerError.unknownNode(node.rawValue) }
        let time = now()
        if diskFull != core.isDiskFull(node) {
            logger.warning(
                diskFull ? "node disk full: placing nothing there" : "node disk no longer full",
                metadata: ["node": "\(node)"])
        }
        let changed = core.heartbeat(node: node, reports: reports, usage: usage, diskFull: diskFull, now: time)
        try await persist(changed)
        if let history {
            try await history.record(
                node: node.rawValue, [nodeSample(node: node, usage: usage, time: time)],
                jobs: jobSamples(reports, time: time))
        }
        try await schedule()
        return core.takeOrders(node: node, now: now())
    }

    public func node(credentialDigest digest: String) -> NodeID? { core.node(credentialDigest: digest) }

    /// Forgets a node (its record, its credential); its placed tasks are placed again. Returns how many
    /// were, or nil for a node that is not registered.
    public func forget(node: NodeID) async throws -> Int? {
        guard core.isRegistered(node) else { return nil }
        let lost = core.forget(node: node, now: now())
        try await persist(lost, also: [.delete(StoreKeys.node(node))])
        wake(node)
        logger.notice("node forgotten", metadata: ["node": "\(node)", "requeued": "\(lost.count)"])
        try await schedule()
        return lost.count
    }

    /// Waits up to `timeout` for orders for `node` (the long-poll).
    public func poll(node: NodeID, timeout: Duration) async throws -> AgentOrders {
        guard core.isRegistered(node) else { throw SchedulerError.unknownNode(node.rawValue) }
        guard !stopping else { throw SchedulerError.shuttingDown }
        if !core.hasOrders(node: node) {
            let wake = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.wake(node)
            }
            await withCheckedContinuation { continuation in waiters[node, default: []].append(continuation) }
            wake.cancel()
        }
        return core.takeOrders(node: node, now: now())
    }

    func wake(_ node: NodeID) {
        for waiter in waiters.removeValue(forKey: node) ?? [] { waiter.resume() }
    }

    /// Long-polls waiting for orders now.
    public var openPolls: Int { waiters.values.reduce(0) { $0 + $1.count } }

    /// Ends every long-poll now and refuses later ones (a graceful shutdown); returns how many it ended.
    @discardableResult
    public func shutdown() -> Int {
        let answered = openPolls
        stopping = true
        for node in Array(waiters.keys) { wake(node) }
        return answered
    }

    func wakeAll() {
        for node in Array(waiters.keys) where core.hasOrders(node: node) { wake(node) }
    }

    // MARK: The loop

    /// Places what can be placed, persists the placements, then hands them out.
    func schedule() async throws {
        let placed = core.schedule(now: now())
        guard !placed.isEmpty else { return }
        try await persist(placed)
        core.deliver(placed)
        wakeAll()
    }

    /// Retries, timeouts and node expiry, then placement: call about once a second. Once a minute, ended
    /// jobs past their retention are removed.
    public func tick() async throws {
        let changed = core.tick(now: now())
        try await persist(changed)
        await fireDueSchedules()
        if now() - lastSweep >= 60 {
            try await removeExpiredJobs()
            try await compactIfDue()
        }
        try await schedule()
        wakeAll()
    }

    /// Runs `tick` until the task is cancelled, and selects forecast models in the background.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.refitLoop() }
            group.addTask { await self.historyLoop() }
            while !Task.isCancelled {
                do { try await tick() } catch { logger.error("scheduler tick failed", metadata: ["error": "\(error)"]) }
                try? await Task.sleep(for: .milliseconds(250))
            }
            group.cancelAll()
        }
    }

    /// Every few seconds: order selection for the nodes that are due, off the actor (auto-ARIMA takes
    /// milliseconds to seconds per series), then the new models go in and the nodes' loads are updated.
    func refitLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            await refitForecasts()
        }
    }

    /// Selects models for the nodes whose turn it is (at most 8), off the actor, and installs them.
    public func refitForecasts() async {
        let jobs = core.forecaster.refitWork(limit: 8)
        guard !jobs.isEmpty else { return }
        let results = await Task.detached(priority: .utility) { jobs.map(ARIMAForecaster.refit) }.value
        for result in results { core.installForecast(result) }
    }

    func encode(_ value: some Encodable) throws -> [UInt8] { Array(try encoder.encode(value)) }

    static func noNodes(_ spec: JobSpec) -> String {
        let constraints = spec.placementConstraints.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return "placement.mode each-node: no ready node"
            + (constraints.isEmpty ? "" : " matches \(constraints.joined(separator: ", ")) and")
            + " has the capacity for one task"
    }

    static func newJobID() -> JobID {
        JobID.generate(millisecondsSinceEpoch: UInt64(Date().timeIntervalSince1970 * 1000))
    }
}

public enum SchedulerError: Error, Sendable, CustomStringConvertible {
    /// A single task of the job exceeds its tenant's quota: it could never run.
    case overQuota(String)
    /// The tenant's unfinished tasks or open jobs are at their limit: a 429 until some end.
    case overLimit(String)
    case unknownNode(String)
    /// A registration for a node id that another credential holds.
    case nodeClaimed(String)
    /// A long-poll arrived after `shutdown()`.
    case shuttingDown
    /// A value the spec's syntax allows but this scheduler cannot use (a time zone it does not know).
    case invalid(field: String, String)
    /// The stored state changed under this scheduler (another one writing).
    case conflict(String)
    /// A broadcast job (`each-node`) found no ready node to run on.
    case noNodes(String)

    public var description: String {
        switch self {
        case .overQuota(let why), .overLimit(let why): why
        case .unknownNode(let node): "node \(node) is not registered"
        case .nodeClaimed(let node): "node \(node) is registered with another credential"
        case .shuttingDown: "the scheduler is shutting down"
        case .invalid(let field, let why): "\(field): \(why)"
        case .conflict(let why), .noNodes(let why): why
        }
    }
}
