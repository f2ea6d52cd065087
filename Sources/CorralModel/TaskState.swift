/// Where one task of a job is in its life (DESIGN.md): PENDING -> SCHEDULED -> RUNNING -> COMPLETED |
/// FAILED | KILLED | LOST. A failed or lost attempt with attempts left goes back to PENDING.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case pending, scheduled, running, completed, failed, killed, lost

    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .killed, .lost: true
        case .pending, .scheduled, .running: false
        }
    }

    /// Holding resources on a node.
    public var isPlaced: Bool { self == .scheduled || self == .running }
}

/// What a tenant may hold at once across its scheduled and running tasks; nil = no limit.
public struct TenantQuota: Sendable, Equatable, Codable {
    public var cpu: Double?
    public var memory: UInt64?
    public var runningTasks: Int?

    public init(cpu: Double? = nil, memory: UInt64? = nil, runningTasks: Int? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.runningTasks = runningTasks
    }

    /// Which limit one task of `resources` alone exceeds, if any (such a job can never run).
    public func excess(of resources: Resources) -> String? {
        if let cpu, resources.cpu > cpu {
            return "resources.cpu: \(resources.cpu) exceeds the tenant's quota of \(cpu)"
        }
        if let memory, resources.memory > memory {
            return
                "resources.memory: \(ByteSize.format(resources.memory)) exceeds the tenant's quota of \(ByteSize.format(memory))"
        }
        if let runningTasks, runningTasks < 1 { return "the tenant's quota allows no running tasks" }
        return nil
    }
}

/// What a tenant holds now.
public struct TenantUsage: Sendable, Equatable, Codable {
    public var cpu: Double = 0
    public var memory: UInt64 = 0
    public var runningTasks: Int = 0

    public init() {}

    /// Would one more task of `resources` stay within `quota`?
    public func admits(_ resources: Resources, under quota: TenantQuota) -> Bool {
        if let cpu = quota.cpu, self.cpu + resources.cpu > cpu + 1e-9 { return false }
        if let memory = quota.memory, self.memory + resources.memory > memory { return false }
        if let running = quota.runningTasks, runningTasks + 1 > running { return false }
        return true
    }

    /// Each resource the usage counts (`cpu` cores, `memory` bytes, `running_tasks`), with the quota's limit
    /// on it (nil: unlimited, or no quota).
    public func shares(of quota: TenantQuota?) -> [(resource: String, used: Double, limit: Double?)] {
        [
            ("cpu", cpu, quota?.cpu),
            ("memory", Double(memory), quota?.memory.map { Double($0) }),
            ("running_tasks", Double(runningTasks), quota?.runningTasks.map { Double($0) }),
        ]
    }

    public mutating func add(_ resources: Resources) {
        cpu += resources.cpu
        memory += resources.memory
        runningTasks += 1
    }

    public mutating func remove(_ resources: Resources) {
        cpu = max(0, cpu - resources.cpu)
        memory -= min(memory, resources.memory)
        runningTasks = max(0, runningTasks - 1)
    }
}
