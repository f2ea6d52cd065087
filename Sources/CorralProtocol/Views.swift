import CorralModel

/// A job's state as the API shows it, from its tasks' states.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case pending, scheduled, running, completed, failed, cancelling, cancelled
    /// A schedule that fires (`active`) or is paused; a cancelled one is `cancelled`.
    case active, paused
    /// Never ran: an upstream job ended otherwise than it asked (`dependsOn`).
    case skipped

    /// The state of a job whose `total` tasks are in the states `counts` gives.
    public init(cancelled: Bool, counts: [TaskState: Int], total: Int) {
        let terminal = TaskState.allCases.filter(\.isTerminal).reduce(0) { $0 + (counts[$1] ?? 0) }
        if cancelled {
            self = terminal == total ? .cancelled : .cancelling
        } else if counts[.completed] == total {
            self = .completed
        } else if terminal == total {
            self = .failed
        } else if counts[.running, default: 0] > 0 {
            self = .running
        } else if counts[.scheduled, default: 0] > 0 {
            self = .scheduled
        } else {
            self = .pending
        }
    }

    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled, .skipped: true
        case .pending, .scheduled, .running, .cancelling, .active, .paused: false
        }
    }
}

/// A job as the API shows it: its spec, its state and how many tasks are in each state.
public struct JobView: Sendable, Codable, Equatable {
    public var id: JobID
    public var name: String
    public var tenant: String
    public var priority: Int
    public var state: JobState
    public var submittedAt: Double
    /// Tasks per state (`TaskState` raw values).
    public var tasks: [String: Int]
    /// Why tasks wait, when they do (quota, or which resource no node has free).
    public var waitingFor: String?
    public var spec: JobSpec
    /// A schedule's state; for a run of one, the schedule and the fire time it ran for.
    public var schedule: ScheduleView?
    public var scheduledBy: JobID?
    public var fire: Int64?
    /// Why a skipped job never ran.
    public var skipped: String?

    public init(
        id: JobID, spec: JobSpec, cancelled: Bool, submittedAt: Double, taskStates: [TaskState],
        waitingFor: String?, schedule: ScheduleView? = nil, scheduledBy: JobID? = nil, fire: Int64? = nil,
        skipped: String? = nil
    ) {
        self.skipped = skipped
        self.schedule = schedule
        self.scheduledBy = scheduledBy
        self.fire = fire
        self.id = id
        name = spec.name
        tenant = spec.tenant
        priority = spec.priority
        self.submittedAt = submittedAt
        self.spec = spec
        var counts: [TaskState: Int] = [:]
        for state in taskStates { counts[state, default: 0] += 1 }
        tasks = Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
        self.waitingFor = waitingFor
        state = JobState(cancelled: cancelled, counts: counts, total: taskStates.count)
        if let schedule { state = cancelled ? .cancelled : schedule.paused ? .paused : .active }
        if skipped != nil, !cancelled { state = .skipped }
    }
}

/// A job graph: the jobs connected to one by `dependsOn` edges either way, and the edges.
public struct JobGraphView: Sendable, Codable, Equatable {
    public struct Edge: Sendable, Codable, Equatable {
        /// `to` waits for `from`, and runs on its `on`.
        public var from: JobID
        public var to: JobID
        public var on: Dependency.Condition

        public init(from: JobID, to: JobID, on: Dependency.Condition) {
            self.from = from
            self.to = to
            self.on = on
        }
    }

    public var jobs: [JobView]
    public var edges: [Edge]

    public init(jobs: [JobView], edges: [Edge]) {
        self.jobs = jobs
        self.edges = edges
    }
}

/// A workflow as submitted: its jobs, in the order given.
public struct WorkflowView: Sendable, Codable, Equatable {
    public var jobs: [JobView]

    public init(jobs: [JobView]) { self.jobs = jobs }
}

/// A schedule as the API shows it: when it fires next, and what its fires came to.
public struct ScheduleView: Sendable, Codable, Equatable {
    /// Unix seconds; nil when the expression fires no more.
    public var nextFire: Int64?
    public var lastFire: Int64?
    public var paused: Bool
    public var fired: Int
    /// Fires not run because a run was still going (`overlap: forbid`) or the tenant was at a limit.
    public var skipped: Int
    /// Fires not run because they came too late (`startingDeadline`) or passed with no scheduler running.
    public var missed: Int
    public var lastSkip: String?
    /// Runs not yet ended.
    public var active: [JobID]

    public init(
        nextFire: Int64?, lastFire: Int64?, paused: Bool, fired: Int, skipped: Int, missed: Int, lastSkip: String?,
        active: [JobID]
    ) {
        self.nextFire = nextFire
        self.lastFire = lastFire
        self.paused = paused
        self.fired = fired
        self.skipped = skipped
        self.missed = missed
        self.lastSkip = lastSkip
        self.active = active
    }
}

/// One task of a job as the API shows it.
public struct TaskView: Sendable, Codable, Equatable {
    public var job: JobID
    public var index: Int
    public var state: TaskState
    public var attempt: Int
    /// The current attempt's node while placed, else the last one's.
    public var node: NodeID?
    public var allocation: AllocationID?
    public var exitCode: Int32?
    public var lastError: String?
    public var retryAt: Double?
    /// When the scheduler heard the current attempt is running (seconds since the Unix epoch).
    public var startedAt: Double?
    public var usage: AllocationUsage?
    public var outcome: TaskOutcome?
    /// Where the current attempt can be reached (bridge mode: its address and published ports).
    public var network: AllocationNetwork?
    /// A service task's health and restarts in place.
    public var health: TaskHealth?
    /// Its latest checkpoint snapshot (which the next attempt starts from), or why one was skipped.
    public var checkpoint: CheckpointStatus?

    public init(
        job: JobID, index: Int, state: TaskState, attempt: Int, node: NodeID? = nil, allocation: AllocationID? = nil,
        exitCode: Int32? = nil, lastError: String? = nil, retryAt: Double? = nil, startedAt: Double? = nil,
        usage: AllocationUsage? = nil, outcome: TaskOutcome? = nil, network: AllocationNetwork? = nil,
        health: TaskHealth? = nil, checkpoint: CheckpointStatus? = nil
    ) {
        self.checkpoint = checkpoint
        self.health = health
        self.network = network
        self.job = job
        self.index = index
        self.state = state
        self.attempt = attempt
        self.node = node
        self.allocation = allocation
        self.exitCode = exitCode
        self.lastError = lastError
        self.retryAt = retryAt
        self.startedAt = startedAt
        self.usage = usage
        self.outcome = outcome
    }
}

/// `GET /v1/tenants/{tenant}/quota`.
public struct QuotaStatus: Sendable, Codable, Equatable {
    public var tenant: String
    public var quota: TenantQuota?
    public var usage: TenantUsage
    /// What the tenant's reclaimable tasks hold: counted apart, each under the same quota.
    public var reclaimable: TenantUsage?

    public init(tenant: String, quota: TenantQuota?, usage: TenantUsage, reclaimable: TenantUsage? = nil) {
        self.tenant = tenant
        self.quota = quota
        self.usage = usage
        self.reclaimable = reclaimable
    }
}

/// `DELETE /v1/nodes/{node}`: the node is forgotten, and this many of its tasks are placed again.
public struct NodeForgotten: Sendable, Codable, Equatable {
    public var node: NodeID
    public var requeued: Int

    public init(node: NodeID, requeued: Int) {
        self.node = node
        self.requeued = requeued
    }
}

/// A node an admin is draining (`corral node drain`): it gets no new work; at `deadline` (if any) the
/// tasks still on it are killed and placed elsewhere without using up an attempt.
public struct NodeDrain: Sendable, Codable, Equatable {
    /// When the drain began and when it evicts what is left (seconds since the Unix epoch); no deadline
    /// waits for the tasks to end by themselves.
    public var since: Double
    public var deadline: Double?

    public init(since: Double, deadline: Double?) {
        self.since = since
        self.deadline = deadline
    }
}

/// `POST /v1/nodes/{node}/drain`'s body: evict what is left after this many seconds (nil: never; 0: now).
public struct DrainRequest: Sendable, Codable, Equatable {
    public var deadlineSeconds: Double?

    public init(deadlineSeconds: Double?) { self.deadlineSeconds = deadlineSeconds }
}

/// `GET /v1/leader`, answered by every scheduler without a token: its role (`standalone`, `leader`,
/// `follower`, `candidate`), the leader's address as it knows it (none while there is no leader), and
/// its own.
public struct LeaderView: Sendable, Codable, Equatable {
    public var role: String
    public var leader: String?
    public var address: String?

    public init(role: String, leader: String?, address: String?) {
        self.role = role
        self.leader = leader
        self.address = address
    }
}

/// One alert notification, as a rule's webhook receives it (JSON POST) and `GET /v1/alerts` lists the
/// firing ones. `id` is the same for every notification of one alert (its rule, subject and start):
/// a receiver that may see a retried POST twice keeps one per `id` and `status`.
public struct AlertNotification: Sendable, Codable, Equatable {
    public var id: String
    /// `firing` (first sent, or re-sent after the rule's resend interval) or `resolved`.
    public var status: String
    public var rule: String
    public var kind: String
    /// What it is about: a node, a task, `tenant/resource`, `node/resource`.
    public var subject: String
    public var summary: String
    /// When the condition began (seconds since the Unix epoch), and when it ended (resolved only).
    public var startsAt: Double
    public var endsAt: Double?
    /// When this notification was made, and how many of this alert were made before it.
    public var sentAt: Double
    public var resends: Int

    public init(
        id: String, status: String, rule: String, kind: String, subject: String, summary: String, startsAt: Double,
        endsAt: Double? = nil, sentAt: Double, resends: Int = 0
    ) {
        self.id = id
        self.status = status
        self.rule = rule
        self.kind = kind
        self.subject = subject
        self.summary = summary
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.sentAt = sentAt
        self.resends = resends
    }
}

/// A node's recent load and its forecast path, per resource, as the console draws it: the last samples the
/// forecaster took (one each `sampleSeconds`, oldest first) and, once a model is fitted, each step ahead's
/// mean with its 80% and 95% intervals. Fractions of capacity.
public struct NodeLoadChart: Sendable, Codable, Equatable {
    public struct Resource: Sendable, Codable, Equatable {
        /// `cpu`, `memory` or `io`.
        public var name: String
        public var history: [Double]
        public var forecast: [Step]

        public init(name: String, history: [Double], forecast: [Step]) {
            self.name = name
            self.history = history
            self.forecast = forecast
        }
    }

    public struct Step: Sendable, Codable, Equatable {
        public var mean: Double
        public var halfWidth80: Double
        public var halfWidth95: Double

        public init(mean: Double, halfWidth80: Double, halfWidth95: Double) {
            self.mean = mean
            self.halfWidth80 = halfWidth80
            self.halfWidth95 = halfWidth95
        }
    }

    public var node: NodeID
    public var sampleSeconds: Double
    public var resources: [Resource]

    public init(node: NodeID, sampleSeconds: Double, resources: [Resource]) {
        self.node = node
        self.sampleSeconds = sampleSeconds
        self.resources = resources
    }
}
