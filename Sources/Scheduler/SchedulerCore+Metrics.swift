import CorralModel
import CorralProtocol
import Placement

/// What `/metrics` shows of the core: counters kept as events happen, and a snapshot of the state.
extension SchedulerCore {
    /// Kept as tasks are placed and start; bounded whatever the load.
    public struct Counters: Sendable, Equatable {
        /// From a job's submission (a schedule's fire) to its task's first placement.
        public var submitToPlaced = LatencyHistogram()
        /// From each placement to the agent's report that the attempt runs.
        public var placedToRunning = LatencyHistogram()
        /// Placement decisions: a task placed, or left waiting for room on a node or for its tenant's quota.
        public var placed = 0
        public var waitedForRoom = 0
        public var waitedForQuota = 0
        /// Tasks evicted (from drained nodes, or by their agent to relieve pressure), and of them those
        /// reclaimable tasks an agent evicted.
        public var evicted = 0
        public var pressureEvictions = 0
    }

    /// The state as `/metrics` shows it, taken at once.
    public struct MetricsSnapshot: Sendable {
        public struct Node: Sendable {
            public var id: NodeID
            public var ready: Bool
            public var draining: Bool
            public var breakerOpen: Bool
            public var breakerTrips: Int
            /// Seconds since the scheduler last heard from the node.
            public var heartbeatAge: Double
            public var running: Int
            public var capacity: ResourceVector
            public var reserved: ResourceVector
            public var usage: NodeLoad
            /// The load placement uses for each of `horizons`.
            public var forecasts: [NodeLoad]
            /// With reclamation on: capacity forecast idle inside the reservations, and what reclaimable
            /// tasks' requests hold.
            public var reclaimable: ResourceVector?
            public var reclaimableReserved: ResourceVector?
        }
        /// Tasks by tenant and state (every state present, zero included, for each tenant with tasks).
        public var tasks: [String: [TaskState: Int]]
        /// Tasks pending (waiting to be placed, for a retry, for room or for upstream jobs), and the age of
        /// the one waiting longest.
        public var queued: Int
        public var oldestQueuedSeconds: Double
        public var deadLetters: Int
        public var nodes: [Node]
        public var horizons: [Double]
        public var tenants: [String: TenantUsage]
        public var quotas: [String: TenantQuota]
        public var counters: Counters
    }

    public func metricsSnapshot(now: Double) -> MetricsSnapshot {
        var tasks: [String: [TaskState: Int]] = [:]
        var queued = 0
        var oldest = now
        var deadLetters = 0
        for record in table.tasks.values {
            guard let tenant = table.job(record.id.job)?.spec.tenant else { continue }
            if tasks[tenant] == nil {
                tasks[tenant] = Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0, 0) })
            }
            tasks[tenant]?[record.state, default: 0] += 1
            if record.state == .pending {
                queued += 1
                oldest = min(oldest, record.updatedAt)
            }
            if record.machine.isDeadLetter { deadLetters += 1 }
        }
        let nodeList = nodes.ids.sorted().compactMap { id -> MetricsSnapshot.Node? in
            guard let node = nodes[id] else { return nil }
            let slot = view.node(id.rawValue)
            return MetricsSnapshot.Node(
                id: id, ready: node.machine.isReady, draining: node.record.drain != nil,
                breakerOpen: !node.breaker.admits, breakerTrips: node.breaker.trips,
                heartbeatAge: max(0, now - node.machine.lastSeen),
                running: slot?.running ?? 0, capacity: node.record.capacity, reserved: slot?.reserved ?? .zero,
                usage: node.usage, forecasts: forecaster.forecasts(node: id.rawValue),
                reclaimable: configuration.reclamation.flatMap { view.idleReserved(id.rawValue, ceiling: $0.ceiling) },
                reclaimableReserved: configuration.reclamation == nil ? nil : slot?.reclaimableReserved)
        }
        var tenants: [String: TenantUsage] = [:]
        for tenant in Set(configuration.quotas.keys).union(tasks.keys) { tenants[tenant] = ledger.usage(of: tenant) }
        return MetricsSnapshot(
            tasks: tasks, queued: queued, oldestQueuedSeconds: queued == 0 ? 0 : max(0, now - oldest),
            deadLetters: deadLetters, nodes: nodeList, horizons: configuration.forecastHorizons, tenants: tenants,
            quotas: configuration.quotas, counters: counters)
    }
}
