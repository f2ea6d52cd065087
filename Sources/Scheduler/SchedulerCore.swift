import CorralModel
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

    struct NodeState: Sendable {
        var record: NodeRecord
        var lastSeen: Double
        var ready: Bool
        var outbox: [Allocation] = []
        var kills: [String] = []
        /// Handed to the agent, not yet reported running: resent if still unreported after an interval.
        var inflight: [String: (allocation: Allocation, at: Double)] = [:]
        var usage: NodeLoad = .idle
        /// Allocations the node has reported running, and since when each has gone unmentioned.
        var reportedRunning: Set<String> = []
        var unmentionedSince: [String: Double] = [:]
    }

    public var configuration: Configuration
    var jobs: [String: JobRecord] = [:]
    var tasks: [TaskID: TaskRecord] = [:]
    var tasksOfJob: [String: [TaskID]] = [:]
    var nodes: [String: NodeState] = [:]
    var view: ClusterView
    var queue = TaskQueue()
    /// Tasks that could not be placed (no room, or over quota) until something frees up.
    var blocked: [TaskID: String] = [:]
    var retries: [(at: Double, task: TaskID)] = []
    /// Running tasks with a timeout: when each run started and when it must have ended.
    var deadlines: [(at: Double, task: TaskID, started: Double)] = []
    var usage: [String: TenantUsage] = [:]
    var allocations: [String: TaskID] = [:]
    public var forecaster: ARIMAForecaster
    var nextSequence: Int64 = 1
    /// Random source for retry jitter; injected so that tests know the delays.
    var random: @Sendable () -> Double

    public init(configuration: Configuration, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.configuration = configuration
        self.view = ClusterView(weights: configuration.placement, horizons: configuration.forecastHorizons.count)
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
    public func rejection(of spec: JobSpec) -> String? {
        configuration.quotas[spec.tenant]?.excess(of: spec.resources)
    }

    public mutating func makeJobRecord(_ spec: JobSpec, id: String, now: Double) -> JobRecord {
        defer { nextSequence += 1 }
        return JobRecord(id: id, spec: spec, sequence: nextSequence, submittedAt: now)
    }

    /// Takes in a job already made durable, with any task records stored for it (after a restart).
    public mutating func admit(_ job: JobRecord, stored: [TaskRecord] = [], now: Double) {
        jobs[job.id] = job
        nextSequence = max(nextSequence, job.sequence + 1)
        let byIndex = Dictionary(stored.map { ($0.id.index, $0) }, uniquingKeysWith: { a, _ in a })
        var ids: [TaskID] = []
        for index in 0..<job.spec.count {
            let id = TaskID(job: job.id, index: index)
            ids.append(id)
            var record =
                byIndex[index]
                ?? TaskRecord(id: id, machine: TaskMachine(maxAttempts: job.spec.retry.maxAttempts), updatedAt: now)
            if job.cancelled, !record.state.isTerminal, !record.state.isPlaced { _ = record.machine.handle(.cancel) }
            tasks[id] = record
            switch record.state {
            case .pending:
                if let at = record.notBefore, at > now { retries.append((at, id)) } else { enqueue(id) }
            case .scheduled, .running:
                if let node = record.machine.node, let allocation = record.allocation {
                    allocations[allocation] = id
                    view.reserve(ResourceVector(job.spec.resources), on: node)
                    usage[job.spec.tenant, default: TenantUsage()].add(job.spec.resources)
                    if let started = record.startedAt, let timeout = job.spec.timeout {
                        deadlines.append((started + timeout.inSeconds, id, started))
                    }
                    if record.state == .scheduled {
                        let allocation = makeAllocation(record, job)
                        nodes[node]?.outbox.append(allocation)
                    }
                }
            default: break
            }
        }
        tasksOfJob[job.id] = ids
    }

    public func job(_ id: String) -> JobRecord? { jobs[id] }
    public func tasks(of job: String) -> [TaskRecord] { (tasksOfJob[job] ?? []).compactMap { tasks[$0] } }
    public var allJobs: [JobRecord] { jobs.values.sorted { $0.sequence < $1.sequence } }
    public func blockedReason(job: String) -> String? {
        (tasksOfJob[job] ?? []).lazy.compactMap { blocked[$0] }.first
    }
    public func usage(of tenant: String) -> TenantUsage { usage[tenant] ?? TenantUsage() }
    public var deadLetters: [TaskRecord] {
        tasks.values.filter { $0.machine.isDeadLetter }.sorted { $0.id < $1.id }
    }

    /// Cancels every task of the job not yet ended; returns the changed records.
    public mutating func cancel(job id: String, now: Double) -> [TaskRecord] {
        guard jobs[id] != nil else { return [] }
        jobs[id]?.cancelled = true
        var changed: [TaskRecord] = []
        for task in tasksOfJob[id] ?? [] where !(tasks[task]?.state.isTerminal ?? true) {
            if apply(.cancel, to: task, now: now) { changed.append(tasks[task]!) }
        }
        return changed
    }
}
