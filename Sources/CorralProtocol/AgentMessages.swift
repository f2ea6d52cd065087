import CorralModel

/// `POST /v1/agents/register`.
public struct Registration: Sendable, Codable, Equatable {
    public var node: NodeID
    public var capacity: ResourceVector
    public var labels: [String: String]?
    public var weight: Double?
    /// Where the agent serves its tasks' logs to the scheduler (`http://HOST:PORT`), if it does.
    public var address: String?
    /// Cgroup mode, kernel release and other facts, for display.
    public var info: [String: String]?

    public init(
        node: NodeID, capacity: ResourceVector, labels: [String: String]? = nil, weight: Double? = nil,
        address: String? = nil, info: [String: String]? = nil
    ) {
        self.node = node
        self.capacity = capacity
        self.labels = labels
        self.weight = weight
        self.address = address
        self.info = info
    }
}

/// `POST /v1/agents/{node}/heartbeat`.
public struct Heartbeat: Sendable, Codable, Equatable {
    public var usage: NodeLoad
    public var allocations: [AllocationReport]
    /// Allocations still running with nothing new to say (no usage change): their ids alone. A node
    /// must mention every allocation it runs on each heartbeat, and most of them are these.
    public var running: [AllocationID]
    /// Set while the agent cannot write its records (ENOSPC): the scheduler places nothing on the node.
    public var diskFull: Bool?

    public init(usage: NodeLoad, allocations: [AllocationReport], running: [AllocationID] = [], diskFull: Bool? = nil) {
        self.usage = usage
        self.allocations = allocations
        self.running = running
        self.diskFull = diskFull
    }

    /// Reports with usage or an end go in `allocations`; bare "still running" ones become ids in `running`.
    public init(usage: NodeLoad, reports: [AllocationReport], diskFull: Bool = false) {
        self.usage = usage
        self.diskFull = diskFull ? true : nil
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

    enum CodingKeys: String, CodingKey { case usage, allocations, running, diskFull }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        usage = try container.decode(NodeLoad.self, forKey: .usage)
        allocations = try container.decode([AllocationReport].self, forKey: .allocations)
        running = try container.decodeIfPresent([AllocationID].self, forKey: .running) ?? []
        diskFull = try container.decodeIfPresent(Bool.self, forKey: .diskFull)
    }
}

/// What a heartbeat or long-poll hands an agent.
public struct AgentOrders: Sendable, Codable, Equatable {
    public var allocations: [Allocation]
    public var kills: [AllocationID]
    public var heartbeatIntervalSeconds: Double
    /// Set in the answer to a registration made with the bootstrap (agent) token: the node's own
    /// credential, which every later request of this node carries instead. The scheduler keeps only its hash.
    public var credential: String?
    /// Set in every registration's answer: what the scheduler presents when it fetches this node's logs.
    public var relayToken: String?

    public init(
        allocations: [Allocation], kills: [AllocationID], heartbeatIntervalSeconds: Double,
        credential: String? = nil, relayToken: String? = nil
    ) {
        self.allocations = allocations
        self.kills = kills
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.credential = credential
        self.relayToken = relayToken
    }

    public var isEmpty: Bool { allocations.isEmpty && kills.isEmpty }
}

/// A node as the API lists it.
public struct NodeStatus: Sendable, Codable, Equatable {
    public var id: NodeID
    public var ready: Bool
    public var lastSeen: Double
    public var capacity: ResourceVector
    public var reserved: ResourceVector
    public var running: Int
    public var labels: [String: String]
    public var usage: NodeLoad
    /// Where its agent serves logs, if it does.
    public var address: String?
    public var info: [String: String]
    /// What keeps a ready node from getting work (`disk-full`, `breaker-open`, ...); nil when nothing does.
    public var conditions: [String]?
    /// Its circuit breaker: `closed`, `open`, `half-open` or `probing`; why it last tripped, and how often.
    public var breaker: String?
    public var breakerReason: String?
    public var breakerTrips: Int?
    /// Set while an admin drains the node; `drained` once no task of it is left on the node.
    public var drain: NodeDrain?
    public var drained: Bool?
    /// With reclamation on: what reclaimable tasks' requests hold here (not in `reserved`), and the capacity
    /// forecast idle inside the reservations (reserved up to the ceiling, less the forecast's bound).
    public var reclaimableReserved: ResourceVector?
    public var reclaimable: ResourceVector?

    public init(
        id: NodeID, ready: Bool = true, lastSeen: Double = 0, capacity: ResourceVector,
        reserved: ResourceVector = .zero, running: Int = 0, labels: [String: String] = [:], usage: NodeLoad = .idle,
        address: String? = nil, info: [String: String] = [:], conditions: [String]? = nil, breaker: String? = nil,
        breakerReason: String? = nil, breakerTrips: Int? = nil, drain: NodeDrain? = nil, drained: Bool? = nil
    ) {
        self.drain = drain
        self.drained = drained
        self.breaker = breaker
        self.breakerReason = breakerReason
        self.breakerTrips = breakerTrips
        self.id = id
        self.ready = ready
        self.lastSeen = lastSeen
        self.capacity = capacity
        self.reserved = reserved
        self.running = running
        self.labels = labels
        self.usage = usage
        self.address = address
        self.info = info
        self.conditions = conditions
    }
}

/// Task logs travel agent -> scheduler -> client: the agent serves its log files on its `--listen`
/// address only to the relay token its registration answer carried, and the scheduler relays them to
/// whoever may see the job, so that tenants' tokens never reach agents and tenant isolation is checked in
/// one place.
public enum LogRelay {
    /// The response header with the offset to ask for next.
    public static let offsetHeader = "Corral-Log-Offset"
    /// The response header that is `true` while the allocation runs on its node: a follower stops when
    /// it is `false` and no bytes came.
    public static let runningHeader = "Corral-Log-Running"
    public static let streams: Set<String> = ["stdout", "stderr"]

    /// `GET` path of a log stream, on the scheduler and on an agent alike.
    public static func path(_ allocation: AllocationID, stream: String, offset: UInt64) -> String {
        "/v1/allocations/\(allocation)/logs/\(stream)?offset=\(offset)"
    }
}
