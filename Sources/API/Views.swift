import CorralModel
import Placement
import Scheduler

/// A job as the API shows it: its spec, its state and how many tasks are in each state.
public struct JobView: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var tenant: String
    public var priority: Int
    public var state: String
    public var submittedAt: Double
    public var tasks: [String: Int]
    /// Why tasks wait, when they do (quota, or which resource no node has free).
    public var waitingFor: String?
    public var spec: JobSpec

    init(_ job: JobRecord, scheduler: Scheduler) async {
        id = job.id
        name = job.spec.name
        tenant = job.spec.tenant
        priority = job.spec.priority
        submittedAt = job.submittedAt
        spec = job.spec
        let tasks = await scheduler.tasks(of: job.id)
        var counts: [String: Int] = [:]
        for task in tasks { counts[task.state.rawValue, default: 0] += 1 }
        self.tasks = counts
        waitingFor = await scheduler.blockedReason(job: job.id)
        state = Self.state(job, counts, total: tasks.count)
    }

    static func state(_ job: JobRecord, _ counts: [String: Int], total: Int) -> String {
        let terminal = ["completed", "failed", "killed", "lost"].reduce(0) { $0 + (counts[$1] ?? 0) }
        if job.cancelled { return terminal == total ? "cancelled" : "cancelling" }
        if counts["completed"] == total { return "completed" }
        if terminal == total { return "failed" }
        if counts["running", default: 0] > 0 { return "running" }
        if counts["scheduled", default: 0] > 0 { return "scheduled" }
        return "pending"
    }
}

public struct TaskView: Sendable, Codable, Equatable {
    public var job: String
    public var index: Int
    public var state: TaskState
    public var attempt: Int
    public var node: String?
    public var allocation: String?
    public var exitCode: Int32?
    public var lastError: String?
    public var retryAt: Double?
    /// When the scheduler heard the current attempt is running (seconds since the Unix epoch).
    public var startedAt: Double?
    public var usage: AllocationUsage?
    public var outcome: TaskOutcome?

    init(_ record: TaskRecord) {
        job = record.id.job
        index = record.id.index
        state = record.state
        attempt = record.machine.attempt
        node = record.machine.lastNode  // the current attempt's node while placed, else the last one
        allocation = record.allocation
        exitCode = record.exitCode
        lastError = record.machine.lastError
        retryAt = record.state == .pending ? record.notBefore : nil
        startedAt = record.startedAt
        usage = record.usage
        outcome = record.outcome
    }
}

public struct QuotaStatus: Sendable, Codable, Equatable {
    public var tenant: String
    public var quota: TenantQuota?
    public var usage: TenantUsage
}

/// `POST /v1/agents/register`.
public struct Registration: Sendable, Codable, Equatable {
    public var node: String
    public var capacity: ResourceVector
    public var labels: [String: String]?
    public var weight: Double?
    public var info: [String: String]?

    public init(
        node: String, capacity: ResourceVector, labels: [String: String]? = nil, weight: Double? = nil,
        info: [String: String]? = nil
    ) {
        self.node = node
        self.capacity = capacity
        self.labels = labels
        self.weight = weight
        self.info = info
    }
}

/// `POST /v1/agents/{node}/heartbeat`.
public struct Heartbeat: Sendable, Codable, Equatable {
    public var usage: NodeLoad
    public var allocations: [AllocationReport]
    /// Allocations still running with nothing new to say (no usage change): their ids alone. A node
    /// must mention every allocation it runs on each heartbeat, and most of them are these.
    public var running: [String]

    public init(usage: NodeLoad, allocations: [AllocationReport], running: [String] = []) {
        self.usage = usage
        self.allocations = allocations
        self.running = running
    }

    /// Reports with usage or an end go in `allocations`; bare "still running" ones become ids in `running`.
    public init(usage: NodeLoad, reports: [AllocationReport]) {
        self.usage = usage
        allocations = []
        running = []
        for report in reports {
            if report == AllocationReport(id: report.id, state: .running) {
                running.append(report.id)
            } else {
                allocations.append(report)
            }
        }
    }

    /// Every allocation the heartbeat mentions, the bare running ones as reports of their own.
    public var reports: [AllocationReport] { allocations + running.map { AllocationReport(id: $0, state: .running) } }

    enum CodingKeys: String, CodingKey { case usage, allocations, running }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        usage = try container.decode(NodeLoad.self, forKey: .usage)
        allocations = try container.decode([AllocationReport].self, forKey: .allocations)
        running = try container.decodeIfPresent([String].self, forKey: .running) ?? []
    }
}
