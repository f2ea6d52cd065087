/// A job as a tenant submits it: what to run, how much of each resource one task needs, how many tasks,
/// how long they may take, how failures are retried, and where they may run.
public struct JobSpec: Sendable, Equatable {
    public var name: String
    public var tenant: String
    /// 0 (lowest) to 100; higher runs first.
    public var priority: Int
    public var command: [String]
    public var environment: [String: String]
    public var image: String?
    public var resources: Resources
    /// Number of identical tasks.
    public var count: Int
    public var timeout: Duration?
    public var retry: RetryPolicy
    /// How long a task is expected to run: the horizon placement forecasts over.
    public var expectedDuration: Duration?
    /// Node labels a task requires (all must match).
    public var constraints: [String: String]
    public var network: TaskNetwork
    /// Host volumes the tasks mount.
    public var volumes: [VolumeMount]
    public var type: JobType
    /// How service tasks are restarted in place.
    public var restart: RestartPolicy
    /// Health checks of service tasks.
    public var checks: [HealthCheck]
    /// Makes the job a schedule: each fire creates a child job with this spec and no schedule.
    public var schedule: JobSchedule?
    /// Jobs this one waits for, and how each must end for this one to run.
    public var dependsOn: [Dependency]
    /// `each-node`: one task on every ready node that matches at submission; `count` is then that number.
    public var placement: PlacementMode
    /// How often each task's checkpoint directory is snapshotted, and the largest snapshot kept (0: none).
    public var checkpointInterval: Duration
    public var checkpointLimit: UInt64
    /// Batch work that tolerates slowdown and eviction: placed on capacity forecast idle (even inside
    /// other tasks' reservations), given less CPU and evicted first when its node is under pressure, and
    /// counted apart in the tenant's quota.
    public var reclaimable: Bool

    public init(
        name: String, tenant: String, priority: Int = 50, command: [String], environment: [String: String] = [:],
        image: String? = nil, resources: Resources = Resources(), count: Int = 1, timeout: Duration? = nil,
        retry: RetryPolicy = RetryPolicy(), expectedDuration: Duration? = nil, constraints: [String: String] = [:],
        network: TaskNetwork = TaskNetwork(), volumes: [VolumeMount] = [], type: JobType = .batch,
        restart: RestartPolicy = RestartPolicy(), checks: [HealthCheck] = [], schedule: JobSchedule? = nil,
        dependsOn: [Dependency] = [], placement: PlacementMode = .any,
        checkpointInterval: Duration = JobSpec.defaultCheckpointInterval,
        checkpointLimit: UInt64 = JobSpec.defaultCheckpointLimit, reclaimable: Bool = false
    ) {
        self.reclaimable = reclaimable
        self.checkpointInterval = checkpointInterval
        self.checkpointLimit = checkpointLimit
        self.placement = placement
        self.dependsOn = dependsOn
        self.schedule = schedule
        self.type = type
        self.restart = restart
        self.checks = checks
        self.name = name
        self.tenant = tenant
        self.priority = priority
        self.command = command
        self.environment = environment
        self.image = image
        self.resources = resources
        self.count = count
        self.timeout = timeout
        self.retry = retry
        self.expectedDuration = expectedDuration
        self.constraints = constraints
        self.network = network
        self.volumes = volumes
    }
}

extension JobSpec {
    public static let defaultCheckpointInterval: Duration = .seconds(5)
    public static let defaultCheckpointLimit: UInt64 = 64 << 20
    /// The largest `checkpointLimit` a job may set.
    public static let maxCheckpointLimit: UInt64 = 1 << 30
}

/// What one task needs. CPU in cores, memory in bytes, I/O in bytes per second; nil = not requested.
public struct Resources: Sendable, Equatable {
    public var cpu: Double
    public var memory: UInt64
    public var ioReadBps: UInt64?
    public var ioWriteBps: UInt64?
    public var pids: UInt64?
    /// Bytes the task's work directory may hold (a tmpfs of this size); nil: bounded by its memory only.
    public var disk: UInt64?

    public init(
        cpu: Double = 1, memory: UInt64 = 256 << 20, ioReadBps: UInt64? = nil, ioWriteBps: UInt64? = nil,
        pids: UInt64? = nil, disk: UInt64? = nil
    ) {
        self.disk = disk
        self.cpu = cpu
        self.memory = memory
        self.ioReadBps = ioReadBps
        self.ioWriteBps = ioWriteBps
        self.pids = pids
    }
}

/// Retries of failed or lost tasks: up to `maxAttempts` runs in all, waiting `initialDelay * 2^(n-1)`
/// (capped at `maxDelay`) with up to `jitter` of it added at random.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration
    /// Fraction 0...1 of each delay added at random, so that retries of a burst spread out.
    public var jitter: Double

    public init(
        maxAttempts: Int = 3, initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60),
        jitter: Double = 0.2
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (2 = the first retry), given a random value in 0..<1.
    public func delay(beforeAttempt attempt: Int, random: Double) -> Duration {
        let exponent = max(0, attempt - 2)
        var base = initialDelay
        for _ in 0..<min(exponent, 62) where base < maxDelay { base = base * 2 }
        let capped = min(base, maxDelay)
        return capped + capped * (jitter * min(max(random, 0), 1))
    }
}
