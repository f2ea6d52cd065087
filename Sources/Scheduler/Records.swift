import CorralModel
import Placement

/// A job as stored (`jobs/<id>`): written once at submission, again on cancellation.
public struct JobRecord: Sendable, Codable, Equatable {
    public var id: String
    public var spec: JobSpec
    /// Submission order, for FIFO within a priority.
    public var sequence: Int64
    /// Seconds since the Unix epoch.
    public var submittedAt: Double
    public var cancelled: Bool = false
}

/// A task as stored (`tasks/<job>/<index>`), written whenever its state changes. A task with no record
/// yet is pending, first attempt.
public struct TaskRecord: Sendable, Codable, Equatable {
    public var id: TaskID
    public var machine: TaskMachine
    /// The current attempt's allocation id (`<job>.<index>.<attempt>`), while placed.
    public var allocation: String?
    /// Earliest time of the next attempt (retry backoff).
    public var notBefore: Double?
    public var startedAt: Double?
    public var exitCode: Int32?
    /// The latest usage report of the current attempt, and how the last attempt ended.
    public var usage: AllocationUsage?
    public var outcome: TaskOutcome?
    public var updatedAt: Double

    public var state: TaskState { machine.state }
}

/// A registered node (`nodes/<id>`).
public struct NodeRecord: Sendable, Codable, Equatable {
    public var id: String
    public var capacity: ResourceVector
    public var labels: [String: String]
    public var weight: Double
    public var registeredAt: Double
    /// Cgroup mode and other facts the agent reports, for display.
    public var info: [String: String]

    public init(
        id: String, capacity: ResourceVector, labels: [String: String] = [:], weight: Double = 1,
        registeredAt: Double = 0, info: [String: String] = [:]
    ) {
        self.id = id
        self.capacity = capacity
        self.labels = labels
        self.weight = weight
        self.registeredAt = registeredAt
        self.info = info
    }
}

/// What an agent is told to run: one attempt of one task.
public struct Allocation: Sendable, Codable, Equatable {
    public var id: String
    public var task: TaskID
    public var attempt: Int
    public var tenant: String
    public var command: [String]
    public var environment: [String: String]
    public var image: String?
    public var resources: Resources
    public var timeoutMs: Int64?
}

/// An agent's word on one allocation.
public struct AllocationReport: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case running, exited, failed, killed, unknown }
    public var id: String
    public var state: State
    public var exitCode: Int32?
    public var error: String?
    /// What the allocation uses now (running) or used in all (ended).
    public var usage: AllocationUsage?
    /// How it ended, with OOM and timeout flags, when it has.
    public var outcome: TaskOutcome?

    public init(
        id: String, state: State, exitCode: Int32? = nil, error: String? = nil, usage: AllocationUsage? = nil,
        outcome: TaskOutcome? = nil
    ) {
        self.id = id
        self.state = state
        self.exitCode = exitCode
        self.error = error
        self.usage = usage
        self.outcome = outcome
    }
}

/// One allocation's resource use as its cgroup shows it.
public struct AllocationUsage: Sendable, Codable, Equatable {
    public var cpuUsec: UInt64
    public var memoryBytes: UInt64
    public var ioReadBytes: UInt64
    public var ioWriteBytes: UInt64
    public var pids: UInt64

    public init(cpuUsec: UInt64, memoryBytes: UInt64, ioReadBytes: UInt64, ioWriteBytes: UInt64, pids: UInt64) {
        self.cpuUsec = cpuUsec
        self.memoryBytes = memoryBytes
        self.ioReadBytes = ioReadBytes
        self.ioWriteBytes = ioWriteBytes
        self.pids = pids
    }
}
