import CorralModel
import Placement

/// What a heartbeat or long-poll hands an agent.
public struct AgentOrders: Sendable, Codable, Equatable {
    public var allocations: [Allocation]
    public var kills: [String]
    public var heartbeatIntervalSeconds: Double

    public var isEmpty: Bool { allocations.isEmpty && kills.isEmpty }
}

/// A node as the API lists it.
public struct NodeStatus: Sendable, Codable, Equatable {
    public var id: String
    public var ready: Bool
    public var lastSeen: Double
    public var capacity: ResourceVector
    public var reserved: ResourceVector
    public var running: Int
    public var labels: [String: String]
    public var usage: NodeLoad
    public var info: [String: String]

    public init(
        id: String, ready: Bool = true, lastSeen: Double = 0, capacity: ResourceVector,
        reserved: ResourceVector = .zero,
        running: Int = 0, labels: [String: String] = [:], usage: NodeLoad = .idle, info: [String: String] = [:]
    ) {
        self.id = id
        self.ready = ready
        self.lastSeen = lastSeen
        self.capacity = capacity
        self.reserved = reserved
        self.running = running
        self.labels = labels
        self.usage = usage
        self.info = info
    }
}

extension SchedulerCore {
    /// A node (re)registers: it is ready at once, and its record is what the caller persists.
    public mutating func register(_ record: NodeRecord, now: Double) {
        let known = nodes[record.id]
        nodes[record.id] = NodeState(
            record: record, lastSeen: now, ready: true, outbox: known?.outbox ?? [], kills: known?.kills ?? [],
            reportedRunning: known?.reportedRunning ?? [], unmentionedSince: known?.unmentionedSince ?? [:])
        view.upsert(
            NodeDescription(
                id: record.id, capacity: record.capacity, weight: record.weight, labels: record.labels, ready: true))
        unblockAll()
    }

    /// Nodes loaded from the store after a restart: not judged before the grace period ends.
    public mutating func restore(_ record: NodeRecord, now: Double) {
        register(record, now: now + configuration.restartGrace)
    }

    public func isRegistered(_ node: String) -> Bool { nodes[node] != nil }

    /// A heartbeat: the node is alive, its usage feeds the forecaster, its allocation reports drive the
    /// task machines. Allocations the scheduler does not know (or no longer wants) are killed.
    public mutating func heartbeat(
        node: String, reports: [AllocationReport], usage load: NodeLoad, now: Double
    ) -> [TaskRecord] {
        guard nodes[node] != nil else { return [] }
        nodes[node]?.lastSeen = now
        nodes[node]?.usage = load
        if nodes[node]?.ready == false {
            nodes[node]?.ready = true
            view.setReady(node, true)
            unblockAll()
        }
        forecaster.observe(node: node, load: load, at: now)
        view.setLoads(node, forecaster.forecasts(node: node))
        var changed: [TaskRecord] = []
        var running = 0
        for report in reports {
            guard let task = allocations[report.id], let record = tasks[task], record.machine.node == node else {
                if report.state == .running { nodes[node]?.kills.append(report.id) }
                continue
            }
            let event: TaskMachine.Event?
            switch report.state {
            case .running:
                running += 1
                nodes[node]?.reportedRunning.insert(report.id)
                event = record.state == .scheduled ? .started : nil
                nodes[node]?.outbox.removeAll { $0.id == report.id }
                nodes[node]?.inflight[report.id] = nil
            case .exited:
                nodes[node]?.inflight[report.id] = nil
                event = .exited(code: report.exitCode ?? -1, detail: report.error)
            case .failed: event = .crashed(report.error ?? "failed")
            case .killed: event = record.state.isTerminal ? nil : .crashed(report.error ?? "killed on the node")
            case .unknown: event = .lost(report.error ?? "the node does not know the allocation")
            }
            if let usage = report.usage { tasks[task]?.usage = usage }
            if let outcome = report.outcome { tasks[task]?.outcome = outcome }
            if let event, apply(event, to: task, now: now) { changed.append(tasks[task]!) }
        }
        view.report(node, running: running)
        let reported = Set(reports.map(\.id))
        changed += forgotten(on: node, reported: reported, now: now)
        // Allocations handed out more than an interval ago that the node does not mention: send again.
        for (id, entry) in nodes[node]?.inflight ?? [:]
        where !reported.contains(id) && now - entry.at > configuration.heartbeatInterval {
            nodes[node]?.inflight[id] = nil
            if allocations[id] != nil { nodes[node]?.outbox.append(entry.allocation) }
        }
        return changed
    }

    /// Allocations the node reported running and no longer mentions: its agent lost track of them (its
    /// data directory wiped, say), so they are LOST and placed again. Agents mention every allocation
    /// they run in every heartbeat; one heartbeat without it may be a stale request overtaken by a newer
    /// one, so the allocation must go unmentioned for more than a heartbeat interval. A kill is sent
    /// too, in case the task still runs somewhere the agent cannot see.
    mutating func forgotten(on node: String, reported: Set<String>, now: Double) -> [TaskRecord] {
        guard var state = nodes[node] else { return [] }
        var lost: [TaskID] = []
        for id in state.reportedRunning where !reported.contains(id) {
            guard let task = allocations[id], let record = tasks[task], record.machine.node == node,
                record.state == .running
            else {
                state.reportedRunning.remove(id)
                state.unmentionedSince[id] = nil
                continue
            }
            let since = state.unmentionedSince[id] ?? now
            if now - since > configuration.heartbeatInterval {
                state.reportedRunning.remove(id)
                state.unmentionedSince[id] = nil
                state.kills.append(id)
                lost.append(task)
            } else {
                state.unmentionedSince[id] = since
            }
        }
        if !state.unmentionedSince.isEmpty {
            state.unmentionedSince = state.unmentionedSince.filter { !reported.contains($0.key) }
        }
        nodes[node] = state
        var changed: [TaskRecord] = []
        for task in lost where apply(.lost("the node stopped reporting the allocation"), to: task, now: now) {
            changed.append(tasks[task]!)
        }
        return changed
    }

    /// New forecast models for a node (selected off the actor): installed, and its load re-forecast.
    public mutating func installForecast(_ result: ARIMAForecaster.RefitResult) {
        forecaster.install(result)
        guard nodes[result.node] != nil else { return }
        view.setLoads(result.node, forecaster.forecasts(node: result.node))
    }

    /// Takes what is waiting for a node.
    public mutating func takeOrders(node: String, now: Double) -> AgentOrders {
        let orders = AgentOrders(
            allocations: nodes[node]?.outbox ?? [], kills: nodes[node]?.kills ?? [],
            heartbeatIntervalSeconds: configuration.heartbeatInterval)
        nodes[node]?.kills = []
        nodes[node]?.outbox = []
        for allocation in orders.allocations { nodes[node]?.inflight[allocation.id] = (allocation, now) }
        return orders
    }

    public func hasOrders(node: String) -> Bool {
        !(nodes[node]?.outbox.isEmpty ?? true) || !(nodes[node]?.kills.isEmpty ?? true)
    }

    public var nodeStatuses: [NodeStatus] {
        nodes.values.sorted { $0.record.id < $1.record.id }.map { node in
            let snapshot = view.node(node.record.id)
            return NodeStatus(
                id: node.record.id, ready: node.ready, lastSeen: node.lastSeen, capacity: node.record.capacity,
                reserved: snapshot?.reserved ?? .zero, running: snapshot?.running ?? 0, labels: node.record.labels,
                usage: node.usage, info: node.record.info)
        }
    }
}
