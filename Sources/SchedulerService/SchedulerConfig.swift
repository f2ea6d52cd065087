import CorralModel
import CorralProtocol
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
    /// Connections the API serves at once (default 4096, and never more than the open-file limit allows);
    /// past it, new connections wait in the listen backlog.
    public var maxConnections: Int?
    /// A connection that sends no complete request header within this many seconds, or sits idle between
    /// requests as long, is closed (default 10). A request being answered is never idle: the long-poll is
    /// not cut short.
    public var idleTimeoutSeconds: Double?
    /// With etcd: how often a follower copies the leader's downsampled usage history (default 60 s).
    public var historyCopySeconds: Double?
    /// The largest job spec accepted, in bytes (default 1 MiB; agents' messages may be four times that);
    /// a larger body is a 413.
    public var maxRequestBodyBytes: Int?
    /// Seconds an ended job is kept before it is removed (default 604800, 7 days); its usage history stays.
    public var endedJobRetentionSeconds: Double?
    /// The node circuit breaker: launches failing in a row for the node's own reasons before it is taken out
    /// of placement (default 3), and the cool-down before a probe task tests it (default 60 s).
    public var breakerFailures: Int?
    /// The most tasks' checkpoints may take in the data directory together (default 4 GiB); an upload past
    /// it is refused and the task keeps its previous checkpoint.
    public var checkpointBytesMax: UInt64?
    public var breakerCooldownSeconds: Double?
    /// A token that reads `/metrics` and nothing else (for a Prometheus server).
    public var metricsToken: String?
    /// Serve `/metrics` without a token (default false: the admin or the metrics token).
    public var metricsPublic: Bool?
    /// Alert rules, each with its webhook (docs/monitoring.md).
    public var alerts: [AlertRule]?
    /// Forecast-aware feasibility (docs/scheduler.md): a node takes a task only if its forecast load's upper
    /// bound plus the request stays under the ceiling. Absent: feasibility by requests alone.
    public var forecastFeasibility: ForecastFeasibility?
    /// Reclamation (docs/scheduler.md): reclaimable jobs' tasks go where the forecast's upper bound leaves
    /// room under the ceiling, inside other tasks' reservations too. Absent: they are placed by requests.
    /// The same two settings as feasibility, and `cooldownSeconds`.
    public var reclamation: ForecastFeasibility?

    public struct ForecastFeasibility: Sendable, Codable, Equatable {
        /// The forecast interval whose upper bound is checked: 80 (default) or 95 percent, or 50 for the mean.
        public var interval: Double?
        /// The share of capacity that forecast use plus requests may reach (default 0.9).
        public var ceiling: Double?
        /// Reclamation only: how long a node that evicted a reclaimable task for pressure takes no more
        /// (default 60 s; 0 for none).
        public var cooldownSeconds: Double?

        public init(interval: Double? = nil, ceiling: Double? = nil, cooldownSeconds: Double? = nil) {
            self.interval = interval
            self.ceiling = ceiling
            self.cooldownSeconds = cooldownSeconds
        }
    }

    public struct Tenant: Sendable, Codable, Equatable {
        public var token: String
        public var quota: Quota?
        /// Whether the tenant's jobs may use `"network": {"mode": "host"}` (the node's own network namespace:
        /// its addresses, its ports, its other tasks' host-mode services). Default false.
        public var allowHostNetwork: Bool?
        /// The agents' host volumes (by name) the tenant's jobs may mount; none by default.
        public var volumes: [String]?

        public init(token: String, quota: Quota? = nil, allowHostNetwork: Bool? = nil, volumes: [String]? = nil) {
            self.volumes = volumes
            self.token = token
            self.quota = quota
            self.allowHostNetwork = allowHostNetwork
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

    /// 256 bits from the system's CSPRNG, in hex.
    public static func randomToken() -> String { Secrets.random() }

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

    /// Every configured token with the field it is in and whose it is.
    var tokens: [(value: String, principal: Principal)] {
        [(adminToken, .admin), (agentToken, .agent)] + (metricsToken.map { [($0, .metrics)] } ?? [])
            + tenants.sorted { $0.key < $1.key }.map { ($0.value.token, .tenant($0.key)) }
    }

    static func field(of principal: Principal) -> String {
        switch principal {
        case .admin: "adminToken"
        case .agent: "agentToken"
        case .metrics: "metricsToken"
        case .tenant(let name): "tenants.\(name).token"
        case .node: "node"
        }
    }

    public func problems() -> [ValueError] {
        var problems: [ValueError] = []
        var seen: [(digest: [UInt8], field: String)] = []
        for (value, principal) in tokens {
            let field = Self.field(of: principal)
            guard TokenDigest.isStrong(value), let digest = TokenDigest.configured(value) else {
                problems.append(
                    ValueError(
                        field: field,
                        message: "must be at least 16 characters, or sha256: and 64 hex digits (corral token hash)"))
                continue
            }
            // Compared as digests, so that a token and its sha256: form elsewhere are found out too.
            if let other = seen.first(where: { $0.digest == digest }) {
                problems.append(ValueError(field: field, message: "is also \(other.field): every token must differ"))
            }
            seen.append((digest, field))
        }
        for name in tenants.keys.sorted() where !Names.isValid(name, maxLength: 63) {
            problems.append(ValueError(field: "tenants.\(name)", message: "is not a valid tenant name"))
        }
        for (name, tenant) in tenants.sorted(by: { $0.key < $1.key }) {
            if let memory = tenant.quota?.memory {
                do { _ = try ByteSize.parse(memory) } catch {
                    problems.append(ValueError(field: "tenants.\(name).quota.memory", message: error.message))
                }
            }
        }
        if let value = endedJobRetentionSeconds, !(value >= 60 && value <= 3.2e7) {
            problems.append(ValueError(field: "endedJobRetentionSeconds", message: "must be within 60...32000000"))
        }
        if let value = checkpointBytesMax, !((1 << 20)...(1 << 44)).contains(value) {
            problems.append(ValueError(field: "checkpointBytesMax", message: "must be within 1 MiB...16 TiB"))
        }
        if let value = breakerFailures, !(1...1000).contains(value) {
            problems.append(ValueError(field: "breakerFailures", message: "must be within 1...1000"))
        }
        if let value = breakerCooldownSeconds, !(value >= 1 && value <= 86_400) {
            problems.append(ValueError(field: "breakerCooldownSeconds", message: "must be within 1...86400 seconds"))
        }
        if let value = maxRequestBodyBytes, !(4096...(256 << 20)).contains(value) {
            problems.append(ValueError(field: "maxRequestBodyBytes", message: "must be within 4096...268435456"))
        }
        if let value = maxConnections, !(16...1_000_000).contains(value) {
            problems.append(ValueError(field: "maxConnections", message: "must be within 16...1000000"))
        }
        if let value = historyCopySeconds, !(value >= 1 && value <= 3600) {
            problems.append(ValueError(field: "historyCopySeconds", message: "must be within 1...3600 seconds"))
        }
        if let value = idleTimeoutSeconds, !(value >= 0.1 && value <= 3600) {
            problems.append(ValueError(field: "idleTimeoutSeconds", message: "must be within 0.1...3600 seconds"))
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
        for (name, setting) in [("forecastFeasibility", forecastFeasibility), ("reclamation", reclamation)] {
            guard let setting else { continue }
            if let interval = setting.interval, ![50, 80, 95].contains(interval) {
                problems.append(ValueError(field: "\(name).interval", message: "must be 50 (the mean), 80 or 95"))
            }
            if let ceiling = setting.ceiling, !(ceiling > 0 && ceiling <= 1) {
                problems.append(ValueError(field: "\(name).ceiling", message: "must be within (0, 1]"))
            }
        }
        if forecastFeasibility?.cooldownSeconds != nil {
            problems.append(
                ValueError(field: "forecastFeasibility.cooldownSeconds", message: "is reclamation's setting only"))
        }
        if let cooldown = reclamation?.cooldownSeconds, !(cooldown >= 0 && cooldown <= 3600) {
            problems.append(ValueError(field: "reclamation.cooldownSeconds", message: "must be within 0...3600"))
        }
        problems += alertProblems()
        return problems
    }

    func alertProblems() -> [ValueError] {
        let rules = alerts ?? []
        var problems: [ValueError] = []
        if rules.count > 100 { problems.append(ValueError(field: "alerts", message: "at most 100 rules")) }
        var names = Set<String>()
        for (index, rule) in rules.enumerated() {
            problems += rule.problems(prefix: "alerts[\(index)].")
            if !names.insert(rule.name).inserted {
                problems.append(ValueError(field: "alerts[\(index)].name", message: "\"\(rule.name)\" is used twice"))
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
        if let retention = endedJobRetentionSeconds { configuration.endedJobRetention = retention }
        if let failures = breakerFailures { configuration.breakerThreshold = failures }
        if let cooldown = breakerCooldownSeconds { configuration.breakerCooldown = cooldown }
        configuration.alerts = alerts ?? []
        if let feasibility = forecastFeasibility {
            configuration.feasibility = Feasibility(ceiling: feasibility.ceiling ?? 0.9)
            configuration.feasibilityInterval = feasibility.interval ?? 80
        }
        if let reclamation {
            configuration.reclamation = Feasibility(ceiling: reclamation.ceiling ?? 0.9)
            configuration.reclamationInterval = reclamation.interval ?? 80
            configuration.reclamationCooldown = reclamation.cooldownSeconds ?? 60
        }
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

    /// Who holds `token` (see `TokenTable`).
    public func principal(token: String) -> Principal? {
        TokenTable(self).principal(digest: TokenDigest.of(token))
    }
}
