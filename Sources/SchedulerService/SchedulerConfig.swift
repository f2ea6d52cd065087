import CorralModel
import Foundation
import Placement
import Scheduler

/// The scheduler's configuration file: tokens, tenants with their quotas, placement weights, timings.
public struct SchedulerConfig: Sendable, Codable, Equatable {
    public var adminToken: String
    public var agentToken: String
    public var tenants: [String: Tenant]
    public var heartbeatIntervalSeconds: Double?
    /// The least time without a heartbeat before a node is DOWN (default 15 s; it grows with cluster size).
    public var minimumNodeTTLSeconds: Double?
    public var connectionWeight: Double?
    /// Place by the upper bound of each node's 80% load forecast interval instead of its mean.
    public var conservativeForecasts: Bool?
    /// Forecast horizons in seconds, ascending (default 60, 600, 3600): each task is scored by the node
    /// loads forecast over the first that covers its `expectedDuration`.
    public var forecastHorizonsSeconds: [Double]?
    /// What each tenant may have in the scheduler at once (defaults 20,000 unfinished tasks and 2,000 jobs
    /// with unfinished tasks); a submission past either is a 429 naming the limit.
    public var maxUnfinishedTasksPerTenant: Int?
    public var maxOpenJobsPerTenant: Int?

    public struct Tenant: Sendable, Codable, Equatable {
        public var token: String
        public var quota: Quota?

        public init(token: String, quota: Quota? = nil) {
            self.token = token
            self.quota = quota
        }
    }

    /// Quota as written in the file: cpu in cores, memory with units ("16Gi"), running tasks.
    public struct Quota: Sendable, Codable, Equatable {
        public var cpu: Double?
        public var memory: String?
        public var runningTasks: Int?

        public init(cpu: Double? = nil, memory: String? = nil, runningTasks: Int? = nil) {
            self.cpu = cpu
            self.memory = memory
            self.runningTasks = runningTasks
        }
    }

    public init(adminToken: String, agentToken: String, tenants: [String: Tenant] = [:]) {
        self.adminToken = adminToken
        self.agentToken = agentToken
        self.tenants = tenants
    }

    /// Fresh random tokens and one tenant, `default`, without a quota.
    public static func generated() -> SchedulerConfig {
        SchedulerConfig(
            adminToken: randomToken(), agentToken: randomToken(), tenants: ["default": Tenant(token: randomToken())])
    }

    public static func randomToken() -> String {
        (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
    }

    /// Reads and checks a configuration file; every problem names its field.
    public static func load(path: String) throws -> SchedulerConfig {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let config: SchedulerConfig
        do {
            config = try JSONDecoder().decode(SchedulerConfig.self, from: data)
        } catch {
            throw ValueError(field: path, message: "not a scheduler configuration: \(error)")
        }
        let problems = config.problems()
        if let first = problems.first { throw first }
        return config
    }

    public func problems() -> [ValueError] {
        var problems: [ValueError] = []
        if adminToken.count < 16 {
            problems.append(ValueError(field: "adminToken", message: "must be at least 16 characters"))
        }
        if agentToken.count < 16 {
            problems.append(ValueError(field: "agentToken", message: "must be at least 16 characters"))
        }
        if agentToken == adminToken {
            problems.append(ValueError(field: "agentToken", message: "must differ from adminToken"))
        }
        for (name, tenant) in tenants.sorted(by: { $0.key < $1.key }) {
            if tenant.token == adminToken || tenant.token == agentToken {
                problems.append(
                    ValueError(field: "tenants.\(name).token", message: "must differ from adminToken and agentToken"))
            } else if let other = tenants.first(where: { $0.key < name && $0.value.token == tenant.token }) {
                problems.append(
                    ValueError(field: "tenants.\(name).token", message: "is also tenant \(other.key)'s token"))
            }
            if !Names.isValid(name, maxLength: 63) {
                problems.append(ValueError(field: "tenants.\(name)", message: "is not a valid tenant name"))
            }
            if tenant.token.count < 16 {
                problems.append(ValueError(field: "tenants.\(name).token", message: "must be at least 16 characters"))
            }
            if let memory = tenant.quota?.memory {
                do { _ = try ByteSize.parse(memory) } catch {
                    problems.append(ValueError(field: "tenants.\(name).quota.memory", message: error.message))
                }
            }
        }
        for (field, value) in [
            ("maxUnfinishedTasksPerTenant", maxUnfinishedTasksPerTenant),
            ("maxOpenJobsPerTenant", maxOpenJobsPerTenant),
        ] {
            if let value, !(1...10_000_000).contains(value) {
                problems.append(ValueError(field: field, message: "must be within 1...10000000"))
            }
        }
        if let horizons = forecastHorizonsSeconds {
            if !(1...8).contains(horizons.count) {
                problems.append(ValueError(field: "forecastHorizonsSeconds", message: "must list 1 to 8 horizons"))
            } else if !horizons.allSatisfy({ $0 > 0 && $0.isFinite })
                || zip(horizons, horizons.dropFirst()).contains(where: { $0 >= $1 })
            {
                problems.append(
                    ValueError(
                        field: "forecastHorizonsSeconds",
                        message: "must be positive numbers of seconds in ascending order"))
            }
        }
        return problems
    }

    /// The scheduler core's settings this file sets; the rest keep their defaults.
    public var core: SchedulerCore.Configuration {
        var configuration = SchedulerCore.Configuration(quotas: quotas)
        if let interval = heartbeatIntervalSeconds { configuration.heartbeatInterval = interval }
        if let ttl = minimumNodeTTLSeconds { configuration.minimumTTL = ttl }
        if let b = connectionWeight { configuration.placement.connections = b }
        if let conservative = conservativeForecasts { configuration.conservativeForecasts = conservative }
        if let horizons = forecastHorizonsSeconds { configuration.forecastHorizons = horizons }
        if let limit = maxUnfinishedTasksPerTenant { configuration.maxUnfinishedTasksPerTenant = limit }
        if let limit = maxOpenJobsPerTenant { configuration.maxOpenJobsPerTenant = limit }
        return configuration
    }

    public var quotas: [String: TenantQuota] {
        tenants.compactMapValues { tenant in
            guard let quota = tenant.quota else { return nil }
            return TenantQuota(
                cpu: quota.cpu, memory: quota.memory.flatMap { try? ByteSize.parse($0) },
                runningTasks: quota.runningTasks)
        }
    }

    /// Who holds `token`. Every configured token is compared, each in time that depends only on the
    /// lengths, so neither the answer's timing nor an early exit tells a guesser how much of a token it got
    /// right (tokens are unique across roles: `problems()` refuses duplicates).
    public func principal(token: String) -> Principal? {
        var found: Principal?
        if Self.constantTimeEqual(token, adminToken) { found = .admin }
        if Self.constantTimeEqual(token, agentToken) { found = found ?? .agent }
        for (name, tenant) in tenants where Self.constantTimeEqual(token, tenant.token) {
            found = found ?? .tenant(name)
        }
        return found
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
