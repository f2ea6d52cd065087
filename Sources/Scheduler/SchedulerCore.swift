import CorralModel
import CorralProtocol
import Placement

/// The scheduler's whole in-memory state and its rules, with time passed in (`now`, seconds since the
/// epoch) so that retries, timeouts and node expiry are tested with an injected clock. Every method
/// returns the task records it changed; the `Scheduler` actor persists them before it acts on them
/// (delivers allocations, acknowledges).
public struct SchedulerCore: Sendable {
    public struct Configuration: Sendable {
        public var placement: PlacementWeights
        public var heartbeatInterval: Double
        /// A node silent for longer than this is down; grows with cluster size (Nomad's rule).
        public var minimumTTL: Double
        /// Heartbeats per second the scheduler is willing to take; sets the TTL of a large cluster.
        public var maxHeartbeatRate: Double
        /// After a restart, nodes are not judged for this long.
        public var restartGrace: Double
        public var quotas: [String: TenantQuota]
        /// Score the upper bound of each node's 80% forecast interval instead of its mean.
        public var conservativeForecasts = false
        /// Horizons (seconds, ascending) over which node loads are forecast: a task is scored by the
        /// first that covers its expected duration, the last when it runs longer, the first when it
        /// names none.
        public var forecastHorizons: [Double] = [60, 600, 3600]
        /// What one tenant may have in the scheduler at once: tasks not yet ended and jobs with such tasks.
        /// A submission past either is refused (429), so no tenant can grow the scheduler's memory without
        /// bound however small its requests.
        public var maxUnfinishedTasksPerTenant = 20_000
        public var maxOpenJobsPerTenant = 2_000
        /// Seconds an ended job (every task ended) is kept before its records are removed (default 7 days);
        /// its usage history stays for the reports.
        public var endedJobRetention: Double = 7 * 86_400
        /// The node circuit breaker: launches failing in a row for the node's own reasons that take it out
        /// of placement, and for how long before a probe task tests it (`NodeBreaker`).
        public var breakerThreshold = 3
        public var breakerCooldown: Double = 60
        /// The alert rules the scheduler evaluates (`AlertRule`).
        public var alerts: [AlertRule] = []
        /// Forecast-aware feasibility (nil: a node is feasible when its free reservations fit), and the
        /// interval whose upper bound it checks (80 or 95 percent; 50: the mean forecast).
        public var feasibility: Feasibility?
        public var feasibilityInterval: Double = 80
        /// Reclamation (nil: reclaimable jobs are placed by requests like any other): reclaimable tasks go
        /// where the upper bound of this interval of the near-term forecast stays under the ceiling.
        public var reclamation: Feasibility?
        public var reclamationInterval: Double = 80
        /// Seconds a node that evicted a reclaimable task for pressure takes no more reclaimable work.
        public var reclamationCooldown: Double = 60

        /// Which of `forecastHorizons` scores a task expected to run `seconds` (nil: not said).
        public func horizon(forExpectedDuration seconds: Double?) -> Int {
            ARIMAForecaster.horizon(forExpectedDuration: seconds, in: forecastHorizons)
        }

        public init(
            placement: PlacementWeights = PlacementWeights(), heartbeatInterval: Double = 5, minimumTTL: Double = 15,
            maxHeartbeatRate: Double = 50, restartGrace: Double = 30, quotas: [String: TenantQuota] = [:]
        ) {
            self.placement = placement
            self.heartbeatInterval = heartbeatInterval
            self.minimumTTL = minimumTTL
            self.maxHeartbeatRate = maxHeartbeatRate
            self.restartGrace = restartGrace
            self.quotas = quotas
        }
    }

    public var configuration: Configuration
    var table = TaskTable()
    var nodes = NodeRegistry()
    var ledger: QuotaLedger
    var view: ClusterView
    var queue = TaskQueue()
    /// Tasks that could not be placed (no room, or over quota) until something frees up, and why.
    var blocked = BlockedTasks()
    /// Queue entries `schedule` has looked at, for tests of how much a release re-examines.
    public internal(set) var examined = 0
    /// Placement decisions and scheduling latencies so far (`/metrics`).
    public internal(set) var counters = Counters()
    /// Task events alert rules look back on.
    var alertEvents = AlertEvents()
    var timers = Timers()
    /// Jobs that are schedules, their state and the wheel of their next fires.
    var schedules = ScheduleTable()
    /// Edges between jobs, the jobs that wait on them, and the ends still to be settled.
    var graph = JobGraph()
    /// Nodes that evicted a reclaimable task for pressure, and until when they take no more.
    var reclaimCooldown: [NodeID: Double] = [:]
    public var forecaster: ARIMAForecaster
    /// Random source for retry jitter; injected so that tests know the delays.
    var random: @Sendable () -> Double

    public init(configuration: Configuration, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.configuration = configuration
        self.nodes.breaker = NodeBreaker(
            threshold: configuration.breakerThreshold, cooldown: configuration.breakerCooldown)
        self.ledger = QuotaLedger(quotas: configuration.quotas)
        self.view = ClusterView(
            weights: configuration.placement, horizons: configuration.forecastHorizons.count,
            feasibility: configuration.feasibility, reclamation: configuration.reclamation)
        self.random = random
        var forecasting = ARIMAForecaster.Configuration(
            sampleSeconds: configuration.heartbeatInterval, conservative: configuration.conservativeForecasts)
        forecasting.horizonsSeconds = configuration.forecastHorizons.isEmpty ? [60] : configuration.forecastHorizons
        forecaster = ARIMAForecaster(configuration: forecasting)
    }

    public var ttl: Double {
        max(configuration.minimumTTL, Double(nodes.count) / configuration.maxHeartbeatRate) * 1.1
    }

    // MARK: Jobs

    /// Why a valid spec can never run for its tenant, if so (the API answers 422).
    public func rejection(of spec: JobSpec) -> String? { ledger.rejection(of: spec) }

    /// Why the tenant may not add this job now (its unfinished tasks or open jobs at their limit), if so.
    public func overLimit(_ spec: JobSpec) -> String? {
        let tasks = table.unfinishedTasks[spec.tenant] ?? 0
        if tasks + spec.count > configuration.maxUnfinishedTasksPerTenant {
            return "tenant \(spec.tenant) has \(tasks) unfinished tasks and asks for \(spec.count) more; "
                + "the limit is \(configuration.maxUnfinishedTasksPerTenant) (maxUnfinishedTasksPerTenant)"
        }
        let jobs = table.openJobs[spec.tenant] ?? 0
        if jobs + 1 > configuration.maxOpenJobsPerTenant {
            return
                "tenant \(spec.tenant) has \(jobs) open jobs; the limit is \(configuration.maxOpenJobsPerTenant) (maxOpenJobsPerTenant)"
        }
        return nil
    }

    public mutating func makeJobRecord(_ spec: JobSpec, id: JobID, now: Double) -> JobRecord {
        table.makeJob(spec, id: id, now: now)
    }

    /// A broadcast spec (`each-node`) bound to the nodes that can run it now: its count becomes their
    /// number. Nil when no ready node matches its constraints and has the capacity for one task.
    public func broadcast(_ spec: JobSpec) -> (spec: JobSpec, nodes: [NodeID])? {
        let nodes = view.eligibleNodes(ResourceVector(spec.resources), constraints: spec.placementConstraints)
            .compactMap(NodeID.init)
        guard !nodes.isEmpty else { return nil }
        var spec = spec
        spec.count = nodes.count
        return (spec, nodes)
    }

    /// Takes in a job already made durable, with any task records stored for it (after a restart).
    public mutating func admit(_ job: JobRecord, stored: [TaskRecord] = [], now: Double) {
        let byIndex = Dictionary(stored.map { ($0.id.index, $0) }, uniquingKeysWith: { a, _ in a })
        var records: [TaskRecord] = []
        for index in 0..<job.spec.count {
            let id = TaskID(job: job.id, index: index)
            var record =
                byIndex[index]
                ?? TaskRecord(id: id, machine: TaskMachine(maxAttempts: job.spec.retry.maxAttempts), updatedAt: now)
            if job.cancelled, !record.state.isTerminal, !record.state.isPlaced { _ = record.machine.handle(.cancel) }
            records.append(record)
        }
        table.insert(job, tasks: records)
        graph.add(job)
        for record in records {
            switch record.state {
            case .pending:
                if job.holdsForUpstream { continue }
                if let at = record.notBefore, at > now { timers.retry(record.id, at: at) } else { enqueue(record.id) }
            case .scheduled, .running:
                guard let node = record.machine.node, record.allocation != nil else { continue }
                reserve(job.spec, on: node)
                if let started = record.startedAt, let timeout = job.spec.timeout {
                    timers.deadline(record.id, at: started + timeout.inSeconds, runStartedAt: started)
                }
                if record.state == .scheduled, let allocation = makeAllocation(record, job) {
                    nodes.send(allocation, to: node)
                }
            case .completed, .failed, .killed, .lost:
                continue
            }
        }
    }

    /// A job or a schedule.
    public func job(_ id: JobID) -> JobRecord? { table.job(id) ?? schedules[id]?.job }
    public func tasks(of job: JobID) -> [TaskRecord] { table.tasks(of: job) }
    public var allJobs: [JobRecord] { table.allJobs }
    public func blockedReason(job: JobID) -> String? {
        graph.waiting[job] ?? blocked.reason(job: job)
    }
    public func usage(of tenant: String) -> TenantUsage { ledger.usage(of: tenant) }
    public func reclaimableUsage(of tenant: String) -> TenantUsage? { ledger.reclaimableUsage(of: tenant) }

    /// Counts a placed task's request against its node and its tenant (a reclaimable one apart).
    mutating func reserve(_ spec: JobSpec, on node: NodeID) {
        if spec.reclaimable {
            view.reserveReclaimable(ResourceVector(spec.resources), on: node.rawValue)
        } else {
            view.reserve(ResourceVector(spec.resources), on: node.rawValue)
        }
        ledger.hold(spec.resources, tenant: spec.tenant, reclaimable: spec.reclaimable)
    }

    /// Returns what `reserve` counted.
    mutating func release(_ spec: JobSpec, on node: NodeID) {
        if spec.reclaimable {
            view.releaseReclaimable(ResourceVector(spec.resources), on: node.rawValue)
        } else {
            view.release(ResourceVector(spec.resources), on: node.rawValue)
        }
        ledger.release(spec.resources, tenant: spec.tenant, reclaimable: spec.reclaimable)
    }
    public var deadLetters: [TaskRecord] { table.deadLetters }

    /// Ended jobs whose last task ended more than `endedJobRetention` ago, at most `limit`, oldest first.
    public func expiredJobs(now: Double, limit: Int) -> [JobID] {
        let cutoff = now - configuration.endedJobRetention
        var expired: [(JobID, Double)] = []
        for id in table.endedJobs {
            let ended = table.tasks(of: id).map(\.updatedAt).max() ?? table.job(id)?.submittedAt ?? now
            if ended < cutoff { expired.append((id, ended)) }
        }
        return expired.sorted { $0.1 < $1.1 }.prefix(limit).map(\.0)
    }

    /// Drops an ended job and its task records (after the store did).
    public mutating func remove(job id: JobID) {
        forgetScheduled(id)
        if let job = table.job(id), !table.isOpen(id) { graph.remove(job) }
        blocked.remove(job: id)
        table.remove(job: id)
    }

    /// Cancels every task of the job not yet ended; returns the changed records.
    /// A job's new count: tasks added are queued, tasks at indices past it cancelled (killed if placed).
    /// Returns the job's new record and the tasks that changed; nil for an unknown or cancelled job.
    public mutating func scale(job id: JobID, to count: Int, now: Double) -> (JobRecord, [TaskRecord])? {
        guard var job = table.job(id), !job.cancelled else { return nil }
        let before = job.spec.count
        job.spec.count = count
        var changed: [TaskRecord] = []
        if count > before {
            let kept = table.tasks(of: id).filter { $0.id.index < before }
            let added = (before..<count).map {
                TaskRecord(
                    id: TaskID(job: id, index: $0), machine: TaskMachine(maxAttempts: job.spec.retry.maxAttempts),
                    updatedAt: now)
            }
            table.insert(job, tasks: kept + added)
            for record in added { enqueue(record.id) }
            changed = added
        } else {
            table.replace(job)
            for task in table.taskIDs(of: id) where task.index >= count && !(table[task]?.state.isTerminal ?? true) {
                if let record = apply(.cancel, to: task, now: now) { changed.append(record) }
            }
        }
        return (job, changed)
    }

    public mutating func cancel(job id: JobID, now: Double) -> [TaskRecord] {
        guard table.job(id) != nil else { return [] }
        table.markCancelled(id)
        blocked.remove(job: id)
        var changed: [TaskRecord] = []
        for task in table.taskIDs(of: id) where !(table[task]?.state.isTerminal ?? true) {
            if let record = apply(.cancel, to: task, now: now) { changed.append(record) }
        }
        return changed
    }
}
