import CorralModel
import CorralProtocol

/// Every registered node: its record, its lifecycle (`NodeMachine`), what waits to be handed to its
/// agent (allocations, kills), what was handed out and not yet confirmed, and which allocations it has
/// reported running. Knows nothing of tasks or placement: `SchedulerCore` carries out what it says.
struct NodeRegistry: Sendable {
    struct Node: Sendable {
        var record: NodeRecord
        var machine: NodeMachine
        var outbox: [Allocation] = []
        var kills: [AllocationID] = []
        /// Handed to the agent, not yet reported running: resent if still unreported after an interval.
        var inflight: [AllocationID: (allocation: Allocation, at: Double)] = [:]
        var usage: NodeLoad = .idle
        /// Its agent cannot write its records: nothing is placed there until it can again.
        var diskFull = false
        /// Allocations the node has reported running, and since when each has gone unmentioned.
        var reportedRunning: Set<AllocationID> = []
        var unmentionedSince: [AllocationID: Double] = [:]
        var breaker: NodeBreaker
    }

    /// The breaker each new node starts with.
    var breaker = NodeBreaker(threshold: 3, cooldown: 60)

    private(set) var nodes: [NodeID: Node] = [:]
    /// Each node by the digest of its credential.
    private(set) var byCredential: [String: NodeID] = [:]

    var count: Int { nodes.count }
    var ids: Dictionary<NodeID, Node>.Keys { nodes.keys }
    subscript(id: NodeID) -> Node? { nodes[id] }
    func contains(_ id: NodeID) -> Bool { nodes[id] != nil }

    /// A node registers, or is restored from the store (`grace` set): its record is replaced, what waits
    /// for it and what it reported running are kept; what was in flight to its previous agent and its last
    /// usage are not. Returns its machine's actions.
    mutating func register(_ record: NodeRecord, at time: Double, grace: Double? = nil) -> [NodeMachine.Action] {
        if record.drain != nil { draining.insert(record.id) } else { draining.remove(record.id) }
        if let old = nodes[record.id]?.record.credentialDigest { byCredential[old] = nil }
        if let digest = record.credentialDigest { byCredential[digest] = record.id }
        guard var node = nodes[record.id] else {
            let machine =
                grace.map { NodeMachine(restoredAt: time, grace: $0) } ?? NodeMachine(registeredAt: time)
            nodes[record.id] = Node(record: record, machine: machine, breaker: breaker)
            return []
        }
        node.record = record
        node.inflight = [:]
        node.usage = .idle
        let actions = node.machine.handle(grace.map { .restored(at: time, grace: $0) } ?? .registered(at: time))
        nodes[record.id] = node
        return actions
    }

    /// Removes a node and everything waiting for it (`corral node forget`).
    mutating func remove(_ id: NodeID) {
        if let digest = nodes[id]?.record.credentialDigest { byCredential[digest] = nil }
        nodes[id] = nil
        halfOpen.remove(id)
        draining.remove(id)
    }

    /// Nodes an admin drains (`NodeRecord.drain` set).
    private(set) var draining: Set<NodeID> = []

    /// Starts, changes or ends (nil) a node's drain; returns its new record, nil for an unknown node.
    mutating func setDrain(_ drain: NodeDrain?, node id: NodeID) -> NodeRecord? {
        guard nodes[id] != nil else { return nil }
        nodes[id]?.record.drain = drain
        if drain != nil { draining.insert(id) } else { draining.remove(id) }
        return nodes[id]?.record
    }

    /// An event for one node's machine; its actions for the caller to carry out.
    mutating func handle(_ event: NodeMachine.Event, node id: NodeID) -> [NodeMachine.Action] {
        nodes[id]?.machine.handle(event) ?? []
    }

    mutating func setUsage(_ usage: NodeLoad, node id: NodeID) { nodes[id]?.usage = usage }
    mutating func setDiskFull(_ full: Bool, node id: NodeID) { nodes[id]?.diskFull = full }

    /// Nodes whose breaker waits for a probe: placement tells them of each task (the rest never hear).
    private(set) var halfOpen: Set<NodeID> = []

    /// An event for the node's breaker: true when whether it admits work changed.
    mutating func breaker(_ event: NodeBreaker.Event, node id: NodeID) -> Bool {
        guard let changed = nodes[id]?.breaker.handle(event) else { return false }
        if nodes[id]?.breaker.state == .halfOpen { halfOpen.insert(id) } else { halfOpen.remove(id) }
        return changed
    }

    // MARK: Orders

    mutating func send(_ allocation: Allocation, to id: NodeID) { nodes[id]?.outbox.append(allocation) }
    mutating func kill(_ allocation: AllocationID, on id: NodeID) { nodes[id]?.kills.append(allocation) }
    mutating func withdraw(_ allocation: AllocationID, from id: NodeID) {
        nodes[id]?.outbox.removeAll { $0.id == allocation }
    }

    func hasOrders(_ id: NodeID) -> Bool {
        guard let node = nodes[id] else { return false }
        return !node.outbox.isEmpty || !node.kills.isEmpty
    }

    /// Takes what waits for a node; the allocations handed out are in flight until reported.
    mutating func takeOrders(_ id: NodeID, now: Double, interval: Double) -> AgentOrders {
        guard var node = nodes[id] else {
            return AgentOrders(allocations: [], kills: [], heartbeatIntervalSeconds: interval)
        }
        let orders = AgentOrders(allocations: node.outbox, kills: node.kills, heartbeatIntervalSeconds: interval)
        node.outbox = []
        node.kills = []
        for allocation in orders.allocations { node.inflight[allocation.id] = (allocation, now) }
        nodes[id] = node
        return orders
    }

    // MARK: Reports

    /// The node reports the allocation running: no longer in flight or waiting to be sent.
    mutating func confirmRunning(_ allocation: AllocationID, on id: NodeID) {
        guard var node = nodes[id] else { return }
        node.reportedRunning.insert(allocation)
        node.outbox.removeAll { $0.id == allocation }
        node.inflight[allocation] = nil
        nodes[id] = node
    }

    mutating func confirmEnded(_ allocation: AllocationID, on id: NodeID) { nodes[id]?.inflight[allocation] = nil }

    /// Allocations handed out more than `interval` ago that the node does not mention: taken out of
    /// flight and returned, for the caller to send again if they are still wanted.
    mutating func unconfirmed(on id: NodeID, reported: Set<AllocationID>, now: Double, interval: Double)
        -> [Allocation]
    {
        guard var node = nodes[id] else { return [] }
        var resend: [Allocation] = []
        for (allocation, entry) in node.inflight where !reported.contains(allocation) && now - entry.at > interval {
            node.inflight[allocation] = nil
            resend.append(entry.allocation)
        }
        nodes[id] = node
        return resend
    }

    /// Allocations the node reported running and has not mentioned for more than `interval`: its agent
    /// lost track of them. `stillRunningHere` says which the scheduler still holds running on this node;
    /// the others are forgotten quietly. One heartbeat without an allocation may be a stale request
    /// overtaken by a newer one, hence the interval. Each one returned is also killed on the node, in case
    /// it still runs somewhere the agent cannot see.
    mutating func forgotten(
        on id: NodeID, reported: Set<AllocationID>, now: Double, interval: Double,
        stillRunningHere: (AllocationID) -> Bool
    ) -> [AllocationID] {
        guard var node = nodes[id] else { return [] }
        var lost: [AllocationID] = []
        for allocation in node.reportedRunning where !reported.contains(allocation) {
            guard stillRunningHere(allocation) else {
                node.reportedRunning.remove(allocation)
                node.unmentionedSince[allocation] = nil
                continue
            }
            let since = node.unmentionedSince[allocation] ?? now
            if now - since > interval {
                node.reportedRunning.remove(allocation)
                node.unmentionedSince[allocation] = nil
                node.kills.append(allocation)
                lost.append(allocation)
            } else {
                node.unmentionedSince[allocation] = since
            }
        }
        if !node.unmentionedSince.isEmpty {
            node.unmentionedSince = node.unmentionedSince.filter { !reported.contains($0.key) }
        }
        nodes[id] = node
        return lost
    }
}
