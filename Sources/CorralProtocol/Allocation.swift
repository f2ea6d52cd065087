import CorralModel

/// What an agent is told to run: one attempt of one task.
public struct Allocation: Sendable, Codable, Equatable {
    public var id: AllocationID
    public var tenant: String
    public var command: [String]
    public var environment: [String: String]
    public var image: String?
    public var resources: Resources
    public var timeoutMs: Int64?
    /// How the task reaches the network; nil: loopback only.
    public var network: TaskNetwork?
    /// How many tasks the job has (`CORRAL_TASK_COUNT`).
    public var taskCount: Int?
    /// The node's volumes the task mounts.
    public var volumes: [VolumeMount]?
    /// Set for service tasks: how the agent restarts them in place.
    public var restart: RestartPolicy?
    /// Service tasks' health checks.
    public var checks: [HealthCheck]?
    /// How often the agent snapshots the task's checkpoint directory, and the largest snapshot it keeps;
    /// nil: no checkpoints (`checkpointLimit: 0`, or a scheduler before them).
    public var checkpointIntervalMs: Int64?
    public var checkpointLimit: UInt64?
    /// Set for a reclaimable job's task: the agent lowers its CPU weight and then evicts it when the node
    /// is under pressure.
    public var reclaimable: Bool?

    /// Whether the task is a service's (restarted in place, health-checked).
    public var isService: Bool { restart != nil }

    public var task: TaskID { id.task }
    public var attempt: Int { id.attempt }

    public init(
        id: AllocationID, tenant: String, command: [String], environment: [String: String] = [:],
        image: String? = nil, resources: Resources, timeoutMs: Int64? = nil, network: TaskNetwork? = nil,
        taskCount: Int? = nil, volumes: [VolumeMount]? = nil, restart: RestartPolicy? = nil,
        checks: [HealthCheck]? = nil, checkpointIntervalMs: Int64? = nil, checkpointLimit: UInt64? = nil,
        reclaimable: Bool? = nil
    ) {
        self.reclaimable = reclaimable
        self.checkpointIntervalMs = checkpointIntervalMs
        self.checkpointLimit = checkpointLimit
        self.restart = restart
        self.checks = checks
        self.id = id
        self.tenant = tenant
        self.command = command
        self.environment = environment
        self.image = image
        self.resources = resources
        self.timeoutMs = timeoutMs
        self.network = network
        self.taskCount = taskCount
        self.volumes = volumes
    }

    enum CodingKeys: String, CodingKey {
        case id, task, attempt, tenant, command, environment, image, resources, timeoutMs, network, taskCount, volumes,
            restart, checks, checkpointIntervalMs, checkpointLimit, reclaimable
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(AllocationID.self, forKey: .id)
        tenant = try c.decode(String.self, forKey: .tenant)
        command = try c.decode([String].self, forKey: .command)
        environment = try c.decode([String: String].self, forKey: .environment)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        resources = try c.decode(Resources.self, forKey: .resources)
        timeoutMs = try c.decodeIfPresent(Int64.self, forKey: .timeoutMs)
        network = try c.decodeIfPresent(TaskNetwork.self, forKey: .network)
        taskCount = try c.decodeIfPresent(Int.self, forKey: .taskCount)
        volumes = try c.decodeIfPresent([VolumeMount].self, forKey: .volumes)
        restart = try c.decodeIfPresent(RestartPolicy.self, forKey: .restart)
        checks = try c.decodeIfPresent([HealthCheck].self, forKey: .checks)
        checkpointIntervalMs = try c.decodeIfPresent(Int64.self, forKey: .checkpointIntervalMs)
        checkpointLimit = try c.decodeIfPresent(UInt64.self, forKey: .checkpointLimit)
        reclaimable = try c.decodeIfPresent(Bool.self, forKey: .reclaimable)
    }

    /// The id, and the task and attempt it names, as separate fields as well (what readers of the JSON
    /// expect to find without parsing the id).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(task, forKey: .task)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(command, forKey: .command)
        try c.encode(environment, forKey: .environment)
        try c.encodeIfPresent(image, forKey: .image)
        try c.encode(resources, forKey: .resources)
        try c.encodeIfPresent(timeoutMs, forKey: .timeoutMs)
        try c.encodeIfPresent(network, forKey: .network)
        try c.encodeIfPresent(taskCount, forKey: .taskCount)
        try c.encodeIfPresent(volumes, forKey: .volumes)
        try c.encodeIfPresent(restart, forKey: .restart)
        try c.encodeIfPresent(checks, forKey: .checks)
        try c.encodeIfPresent(checkpointIntervalMs, forKey: .checkpointIntervalMs)
        try c.encodeIfPresent(checkpointLimit, forKey: .checkpointLimit)
        try c.encodeIfPresent(reclaimable, forKey: .reclaimable)
    }
}

/// An agent's word on one allocation.
public struct AllocationReport: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable { case running, exited, failed, killed, unknown }
    public var id: AllocationID
    public var state: State
    public var exitCode: Int32?
    public var error: String?
    /// What the allocation uses now (running) or used in all (ended).
    public var usage: AllocationUsage?
    /// How it ended, with OOM and timeout flags, when it has.
    public var outcome: TaskOutcome?
    /// The task's address and published ports (bridge mode), in the reports until the scheduler has them.
    public var network: AllocationNetwork?
    /// A service task's health and restarts, when they changed.
    public var health: TaskHealth?
    /// The launch failed for the node's own reason (its sandbox setup, a missing image or volume, a full
    /// disk), not the task's: the scheduler places the task again elsewhere and counts it against the node.
    public var nodeFault: Bool?
    /// The latest snapshot of the task's checkpoint directory, or why it was skipped, when that changed.
    public var checkpoint: CheckpointStatus?
    /// Set when the agent killed a reclaimable task to relieve its node's pressure (state `killed`): the
    /// scheduler places it again without using up an attempt.
    public var evicted: String?

    public init(
        id: AllocationID, state: State, exitCode: Int32? = nil, error: String? = nil, usage: AllocationUsage? = nil,
        outcome: TaskOutcome? = nil, network: AllocationNetwork? = nil, health: TaskHealth? = nil,
        nodeFault: Bool? = nil, checkpoint: CheckpointStatus? = nil, evicted: String? = nil
    ) {
        self.evicted = evicted
        self.nodeFault = nodeFault
        self.checkpoint = checkpoint
        self.health = health
        self.id = id
        self.network = network
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
    /// Bytes in the work directory, for tasks with `resources.disk`.
    public var diskBytes: UInt64?

    public init(
        cpuUsec: UInt64, memoryBytes: UInt64, ioReadBytes: UInt64, ioWriteBytes: UInt64, pids: UInt64,
        diskBytes: UInt64? = nil
    ) {
        self.diskBytes = diskBytes
        self.cpuUsec = cpuUsec
        self.memoryBytes = memoryBytes
        self.ioReadBytes = ioReadBytes
        self.ioWriteBytes = ioWriteBytes
        self.pids = pids
    }
}

/// Where a running task can be reached: its address on the node's bridge and its published ports.
public struct AllocationNetwork: Sendable, Codable, Equatable {
    public var mode: TaskNetwork.Mode
    /// The task's address on the node's task subnet (bridge mode).
    public var address: String?
    public var ports: [PublishedPort]

    public init(mode: TaskNetwork.Mode, address: String? = nil, ports: [PublishedPort] = []) {
        self.mode = mode
        self.address = address
        self.ports = ports
    }
}

/// A task's port published on a port of its node.
public struct PublishedPort: Sendable, Codable, Equatable {
    public var name: String
    /// The port the task listens on.
    public var to: Int
    /// The node's port that leads to it.
    public var hostPort: Int
    /// `node-address:host-port`: what a client outside connects to.
    public var address: String

    public init(name: String, to: Int, hostPort: Int, address: String) {
        self.name = name
        self.to = to
        self.hostPort = hostPort
        self.address = address
    }
}

/// A service task's health as its agent's checks see it, and how often it was restarted in place.
public struct TaskHealth: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case unknown, healthy, unhealthy }
    public var status: Status
    /// The last check's result ("HTTP 200", "connection refused", an exec check's output).
    public var output: String
    /// Seconds since the Unix epoch of the last check; nil before the first.
    public var checkedAt: Double?
    /// Restarts in place since the allocation started.
    public var restarts: Int

    /// Bytes of `output` an agent may report (longer output is cut by the agent, refused from one).
    public static let maxOutput = 1024

    public init(status: Status = .unknown, output: String = "", checkedAt: Double? = nil, restarts: Int = 0) {
        self.status = status
        self.output = Self.clip(output)
        self.checkedAt = checkedAt
        self.restarts = restarts
    }

    /// `text` cut to at most `maxOutput` bytes on a character boundary.
    public static func clip(_ text: String) -> String {
        guard text.utf8.count > maxOutput else { return text }
        var clipped = ""
        var bytes = 0
        for character in text {
            bytes += character.utf8.count
            if bytes > maxOutput - 3 { break }
            clipped.append(character)
        }
        return clipped + "..."
    }
}

/// A task's checkpoint as its agent last took it: when, how large, and whether the scheduler has it; or
/// why the last snapshot was skipped (over the job's `checkpointLimit`, the directory not a directory).
public struct CheckpointStatus: Sendable, Codable, Equatable {
    /// Seconds since the Unix epoch.
    public var at: Double
    public var bytes: UInt64
    /// Set when the latest snapshot was not taken or not kept; the previous one (if any) stays.
    public var skipped: String?

    public init(at: Double, bytes: UInt64, skipped: String? = nil) {
        self.at = at
        self.bytes = bytes
        self.skipped = skipped
    }
}
