/// A capacity-planning report: every number behind the HTML charts, as the JSON format carries it.
/// Times are seconds since the Unix epoch; utilisation is a fraction of capacity (1 = full).
/// The JSON Schema is docs/capacity-report.schema.json; `schemaVersion` changes when it does.
public struct CapacityReport: Sendable, Codable, Equatable {
    public var schemaVersion = 1
    public var generatedAt: Double
    /// Start of the history the report read, and how far it looks ahead.
    public var since: Double
    public var horizonSeconds: Double
    /// Spacing of history and forecast points.
    public var stepSeconds: Double
    /// Plain-words summary, most urgent first.
    public var findings: [Finding]
    /// The whole cluster (capacity-weighted over nodes), then each node.
    public var cluster: Scope
    public var nodes: [Scope]
    public var headroom: [Headroom]
    public var stranded: Stranded
    public var rightSizing: [RightSizing]
    public var tenants: [TenantReport]

    public struct Finding: Sendable, Codable, Equatable {
        public enum Severity: String, Sendable, Codable, Comparable {
            case critical, warning, info
            var rank: Int { self == .critical ? 0 : self == .warning ? 1 : 2 }
            public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
        }
        public var severity: Severity
        public var text: String
        /// When what it describes happens (for ordering), if it is a date.
        public var time: Double?
    }

    /// A node or the cluster: its capacity and each resource's history and forecast.
    public struct Scope: Sendable, Codable, Equatable {
        public var id: String
        public var ready: Bool
        /// Cores and bytes.
        public var cpuCapacity: Double
        public var memoryCapacity: Double
        public var resources: [Resource]
    }

    public struct Resource: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case cpu, memory, io }
        public var kind: Kind
        public var history: [HistoryPoint]
        public var used: Percentiles?
        /// What allocations requested (not for I/O, which tasks do not reserve).
        public var reserved: Percentiles?
        public var forecast: Forecast?
        /// First forecast time whose mean reaches 80% / 100% of capacity; nil: not within the horizon.
        /// The current time when the latest sample is already there.
        public var crosses80At: Double?
        public var crosses100At: Double?
        /// First time the upper 95% bound reaches 100%: the earliest plausible exhaustion.
        public var crosses100Upper95At: Double?
    }

    public struct HistoryPoint: Sendable, Codable, Equatable {
        public var time: Double
        public var used: Double?
        public var reserved: Double?
    }

    public struct Percentiles: Sendable, Codable, Equatable {
        public var p50: Double
        public var p95: Double
        public var max: Double
        public var mean: Double
    }

    public struct Forecast: Sendable, Codable, Equatable {
        /// The model chosen, e.g. "ARIMA(1,1,0) with drift"; or why there is no forecast.
        public var model: String
        public var points: [Band]
        /// Largest mean over the horizon.
        public var peak: Double
    }

    public struct Band: Sendable, Codable, Equatable {
        public var time: Double
        public var mean: Double
        public var lo80: Double
        public var hi80: Double
        public var lo95: Double
        public var hi95: Double
    }

    /// How many more tasks of one shape fit: now (by requests against capacity) and at the forecast
    /// peak (by the larger of requests and forecast use).
    public struct Headroom: Sendable, Codable, Equatable {
        public var cpu: Double
        public var memory: Double
        public var fitNow: Int
        public var fitAtPeak: Int
        public var nodes: [NodeFit]
    }

    public struct NodeFit: Sendable, Codable, Equatable {
        public var node: String
        public var fitNow: Int
        public var fitAtPeak: Int
    }

    /// Capacity that cannot be used: reserved but idle, and one resource free where the other is not.
    public struct Stranded: Sendable, Codable, Equatable {
        public var reservedIdleCPU: Double
        public var reservedIdleMemory: Double
        /// Free cores on nodes without room for the smallest shape's memory, and the reverse.
        public var cpuWithoutMemory: Double
        public var memoryWithoutCPU: Double
        /// Forecast idle inside reservations over the horizon: what reclaimable jobs could use (cores, bytes).
        public var reclaimableCPU: Double?
        public var reclaimableMemory: Double?
        public var nodes: [NodeStranded]
    }

    public struct NodeStranded: Sendable, Codable, Equatable {
        public var node: String
        public var reservedIdleCPU: Double
        public var reservedIdleMemory: Double
        public var cpuWithoutMemory: Double
        public var memoryWithoutCPU: Double
        /// The node's reservation now (up to the reclamation ceiling, 90%) less the forecast's highest 80%
        /// bound of use over the horizon, in cores and bytes; nil without a forecast.
        public var reclaimableCPU: Double?
        public var reclaimableMemory: Double?
    }

    /// A job's request against what its busiest task used (p95 over minutes).
    public struct RightSizing: Sendable, Codable, Equatable {
        public var job: String
        public var name: String
        public var tenant: String
        public var requestedCPU: Double
        public var requestedMemory: Double
        public var p95CPU: Double
        public var p95Memory: Double
        public var minutes: Int
        /// A suggested request, when the job asks for much more (or less) than it uses.
        public var suggestedCPU: Double?
        public var suggestedMemory: Double?
    }

    public struct TenantReport: Sendable, Codable, Equatable {
        public var tenant: String
        public var resources: [TenantResource]
        /// Earliest time any quota'd resource's forecast reaches its quota; nil: not within the horizon.
        public var exhaustedAt: Double?
    }

    public struct TenantResource: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case cpu, memory, tasks }
        public var kind: Kind
        /// Cores, bytes or tasks; nil quota: none set.
        public var quota: Double?
        public var current: Double
        public var peak: Double
        public var history: [HistoryPoint]
        public var forecast: Forecast?
        public var exhaustedAt: Double?
    }
}
