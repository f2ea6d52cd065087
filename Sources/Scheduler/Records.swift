import CorralModel
import CorralProtocol
import Placement

/// A job as stored (`jobs/<id>`): written once at submission, again on cancellation.
public struct JobRecord: Sendable, Codable, Equatable {
    public var id: JobID
    public var spec: JobSpec
    /// Submission order, for FIFO within a priority.
    public var sequence: Int64
    /// Seconds since the Unix epoch.
    public var submittedAt: Double
    public var cancelled: Bool = false
    /// A schedule's run: the schedule that created it, and the fire time (Unix seconds) it ran for.
    public var schedule: JobID?
    public var fire: Int64?
    /// When a schedule was cancelled (its retention counts from then).
    public var cancelledAt: Double?
    /// The jobs it waits for (its spec's `dependsOn`, resolved to ids), and how each must end.
    public var upstream: [Upstream]?
    /// Set once its upstream jobs ended as it asked: its tasks are placed from then on.
    public var released: Bool?
    /// Why it never ran: an upstream job ended otherwise than it asked.
    public var skipped: String?
    /// A scheduled workflow's jobs: what each fire creates (the spec above is the first job's, named after
    /// the workflow, with the schedule).
    public var workflow: [JobSpec]?
    /// A broadcast job's nodes (`placement.mode: each-node`): task i runs on node i, and nowhere else.
    public var nodes: [NodeID]?

    public struct Upstream: Sendable, Codable, Equatable, Hashable {
        public var job: JobID
        public var on: Dependency.Condition

        public init(job: JobID, on: Dependency.Condition) {
            self.job = job
            self.on = on
        }
    }

    /// Waits for upstream jobs that have not all ended yet (not released, skipped or cancelled).
    var holdsForUpstream: Bool { !(upstream ?? []).isEmpty && released != true && skipped == nil && !cancelled }
}

/// A task as stored (`tasks/<job>/<index>`), written whenever its state changes. A task with no record
/// yet is pending, first attempt.
public struct TaskRecord: Sendable, Codable, Equatable {
    public var id: TaskID
    public var machine: TaskMachine
    /// The current attempt's allocation, while placed.
    public var allocation: AllocationID?
    /// Earliest time of the next attempt (retry backoff).
    public var notBefore: Double?
    /// When the current (or last) attempt was placed, and when the scheduler heard it runs.
    public var placedAt: Double?
    public var startedAt: Double?
    public var exitCode: Int32?
    /// The latest usage report of the current attempt, and how the last attempt ended.
    public var usage: AllocationUsage?
    public var outcome: TaskOutcome?
    /// The current attempt's address and published ports, as its agent reported them.
    public var network: AllocationNetwork?
    /// The current attempt's health (service tasks), as its agent reported it.
    public var health: TaskHealth?
    /// The task's latest checkpoint (kept in the scheduler's data directory), or why one was skipped.
    public var checkpoint: CheckpointStatus?
    public var updatedAt: Double

    public var state: TaskState { machine.state }
}

/// A registered node (`nodes/<id>`).
public struct NodeRecord: Sendable, Codable, Equatable {
    /// The registration this record came from, for checking a stored record as a new one is checked.
    public var registration: Registration {
        Registration(
            node: id, capacity: capacity, labels: labels, weight: weight, address: address, info: info)
    }

    public var id: NodeID
    public var capacity: ResourceVector
    public var labels: [String: String]
    public var weight: Double
    public var registeredAt: Double
    /// Where the node's agent serves logs (`http://HOST:PORT`), if it does.
    public var address: String?
    /// Cgroup mode and other facts the agent reports, for display.
    public var info: [String: String]
    /// SHA-256 (hex) of the node's credential, handed to its agent once at its first registration: every
    /// request for this node must carry the credential. Never the credential itself.
    public var credentialDigest: String?
    /// Set while an admin drains the node: kept across its agent's registrations and scheduler restarts.
    public var drain: NodeDrain?

    public init(
        id: NodeID, capacity: ResourceVector, labels: [String: String] = [:], weight: Double = 1,
        registeredAt: Double = 0, address: String? = nil, info: [String: String] = [:]
    ) {
        self.id = id
        self.capacity = capacity
        self.labels = labels
        self.weight = weight
        self.registeredAt = registeredAt
        self.address = address
        self.info = info
    }
}
