import CorralModel
import CorralProtocol
import Placement

extension SchedulerCore {
    /// A node (re)registers: it is ready at once, and its record is what the caller persists.
    public mutating func register(_ record: NodeRecord, now: Double) {
        admitNode(record, at: now, grace: nil)
    }

    /// Nodes loaded from the store after a restart: not judged before the grace period ends.
    public mutating func restore(_ record: NodeRecord, now: Double) {
        admitNode(record, at: now, grace: configuration.restartGrace)
    }

    private mutating func admitNode(_ record: NodeRecord, at time: Double, grace: Double?) {
        for action in nodes.register(record, at: time, grace: grace) {
            _ = carryOut(action, node: record.id, now: time, ttl: ttl)
        }
        view.upsert(
            NodeDescription(
                id: record.id.rawValue, capacity: record.capacity, weight: record.weight, labels: record.labels,
                ready: placeable(record.id)))
        unblockAll()
    }

    public func isRegistered(_ node: NodeID) -> Bool { nodes.contains(node) }

    public func isDiskFull(_ node: NodeID) -> Bool { nodes[node]?.diskFull ?? false }

    /// Whether placement may use the node: alive, and its agent able to record what it is given.
    func placeable(_ node: NodeID) -> Bool {
        guard let entry = nodes[node] else { return false }
        return entry.machine.isReady && !entry.diskFull && entry.breaker.admits && entry.record.drain == nil
    }

    /// Carries out what a breaker event changed: the node's placeability, and what waits for room.
    mutating func breaker(_ event: NodeBreaker.Event, node: NodeID) {
        guard nodes.breaker(event, node: node) else { return }
        view.setReady(node.rawValue, placeable(node))
        if placeable(node) { unblockAll() }
    }
    public func record(of node: NodeID) -> NodeRecord? { nodes[node]?.record }
    /// The node whose credential has this SHA-256 digest (hex).
    public func node(credentialDigest digest: String) -> NodeID? { nodes.byCredential[digest] }

    /// An admin forgets a node: its placed tasks are LOST (and placed again), and it is gone from the
    /// registry until it registers anew, with the bootstrap token. Returns the changed task records.
    public mutating func forget(node: NodeID, now: Double) -> [TaskRecord] {
        guard nodes.contains(node) else { return [] }
        // The placement view keeps a slot per node it has seen; a forgotten one stays there, never ready.
        view.setReady(node.rawValue, false)
        let lost = table.placed(on: node).compactMap {
            apply(.lost("node \(node) was forgotten by an admin"), to: $0, now: now)
        }
        nodes.remove(node)
        forecaster.forget(node: node.rawValue)
        reclaimCooldown[node] = nil
        return lost
    }

    /// A heartbeat: the node is alive, its usage feeds the forecaster, its allocation reports drive the
    /// task machines. Allocations the scheduler does not know (or no longer wants) are killed.
    public mutating func heartbeat(
        node: NodeID, reports: [AllocationReport], usage load: NodeLoad, diskFull: Bool = false, now: Double
    ) -> [TaskRecord] {
        guard let before = nodes[node] else { return [] }
        var changed: [TaskRecord] = []
        if before.diskFull != diskFull {
            nodes.setDiskFull(diskFull, node: node)
            view.setReady(node.rawValue, placeable(node))
            if !diskFull { unblockAll() }
        }
        for action in nodes.handle(.heartbeat(at: now), node: node) {
            changed += carryOut(action, node: node, now: now, ttl: ttl)
        }
        nodes.setUsage(load, node: node)
        forecaster.observe(node: node.rawValue, load: load, at: now)
        updateForecast(node.rawValue)
        var running = 0
        for report in reports {
            guard let task = table.task(of: report.id), let record = table[task], record.machine.node == node else {
                if report.state == .running { nodes.kill(report.id, on: node) }
                continue
            }
            let event: TaskMachine.Event?
            switch report.state {
            case .running:
                running += 1
                nodes.confirmRunning(report.id, on: node)
                event = record.state == .scheduled ? .started : nil
                if record.state == .scheduled { breaker(.launched(report.id), node: node) }
            case .exited:
                nodes.confirmEnded(report.id, on: node)
                event = .exited(code: report.exitCode ?? -1, detail: report.error)
                if record.state == .scheduled { breaker(.launched(report.id), node: node) }
            case .failed where report.nodeFault == true:
                // Not the task's doing: it is placed again at once, and the node's breaker counts it.
                let why = report.error ?? "the launch failed"
                breaker(.launchFailed(why, at: now), node: node)
                event = .lost("the launch failed on node \(node): \(why)")
            case .failed: event = .crashed(report.error ?? "failed")
            case .killed where report.evicted != nil && table.job(task.job)?.spec.reclaimable == true:
                // The agent relieved its node's pressure: placed again at once without using up an attempt.
                // Only a reclaimable job's task may be ended so; any other claim is a crash.
                counters.pressureEvictions += 1
                event = .evicted("evicted: node pressure on \(node)")
                coolReclamation(on: node, now: now)
            case .killed: event = record.state.isTerminal ? nil : .crashed(report.error ?? "killed on the node")
            case .unknown: event = .lost(report.error ?? "the node does not know the allocation")
            }
            var updated = record
            if let usage = report.usage { updated.usage = usage }
            if let outcome = report.outcome {
                if outcome.oomKilled, record.outcome != outcome, let job = table.job(task.job) {
                    alertEvents.record(
                        .oomKilled, subject: report.id.description,
                        summary: "task \(task) of job \(job.spec.name) (tenant \(job.spec.tenant)) was OOM-killed "
                            + "at its memory limit on node \(node)", at: now)
                }
                updated.outcome = outcome
            }
            if let network = report.network { updated.network = network }
            if let health = report.health { updated.health = health }
            if let checkpoint = report.checkpoint { updated.checkpoint = checkpoint }
            if updated != record { table.update(updated) }
            if let event, let record = apply(event, to: task, now: now) { changed.append(record) }
        }
        view.report(node.rawValue, running: running)
        let reported = Set(reports.map(\.id))
        changed += forgotten(on: node, reported: reported, now: now)
        // Allocations handed out more than an interval ago that the node does not mention: send again.
        for allocation in nodes.unconfirmed(
            on: node, reported: reported, now: now, interval: configuration.heartbeatInterval)
        where table.task(of: allocation.id) != nil {
            nodes.send(allocation, to: node)
        }
        return changed
    }

    /// Allocations the node reported running and no longer mentions: its agent lost track of them (its
    /// data directory wiped, say), so they are LOST and placed again (`NodeRegistry.forgotten`).
    mutating func forgotten(on node: NodeID, reported: Set<AllocationID>, now: Double) -> [TaskRecord] {
        let lost = nodes.forgotten(
            on: node, reported: reported, now: now, interval: configuration.heartbeatInterval
        ) { allocation in
            guard let task = table.task(of: allocation), let record = table[task] else { return false }
            return record.machine.node == node && record.state == .running
        }
        return lost.compactMap { allocation in
            table.task(of: allocation).flatMap {
                apply(.lost("the node stopped reporting the allocation"), to: $0, now: now)
            }
        }
    }

    /// New forecast models for a node (selected off the actor): installed, and its load re-forecast.
    public mutating func installForecast(_ result: ARIMAForecaster.RefitResult) {
        forecaster.install(result)
        guard let node = NodeID(result.node), nodes.contains(node) else { return }
        updateForecast(result.node)
    }

    /// Gives placement a node's forecast: the load that scores it and, with forecast-aware feasibility,
    /// the upper bounds that decide whether it can take a task. A task waiting for room may fit now.
    mutating func updateForecast(_ node: String) {
        view.setLoads(node, forecaster.forecasts(node: node))
        guard configuration.feasibility != nil || configuration.reclamation != nil else { return }
        // Feasibility judges the near term (the first horizon) for every task: further out an interval only
        // widens toward the series' spread and says little, and a node is judged again at every report
        // (`corral bench replay --sweep` measured both: the near term is better on pressure and on work).
        var feasibilityBound: NodeLoad?
        if configuration.feasibility != nil {
            let bound = forecaster.nearTermBound(node: node, interval: configuration.feasibilityInterval)
            view.setUpperBounds(node, [bound])
            feasibilityBound = bound
        }
        if configuration.reclamation != nil, forecaster.hasForecast(node: node) {
            let interval = configuration.reclamationInterval
            let same = interval == configuration.feasibilityInterval ? feasibilityBound : nil
            let bound = same ?? forecaster.nearTermBound(node: node, interval: interval)
            view.setReclaimBound(node, isCooling(node) ? Self.noRoom : bound)
        }
        if !blocked.isEmpty {
            for id in blocked.representatives(releasedBy: nil, roomOnly: true) { enqueue(id) }
        }
    }

    /// A bound that leaves no room under any ceiling.
    static let noRoom = NodeLoad(cpu: 1, memory: 1, io: 1)

    /// A node evicted a reclaimable task for pressure: it takes no more reclaimable work for the cooldown,
    /// starting now (the evicted task is placed again in this pass, elsewhere or later).
    mutating func coolReclamation(on node: NodeID, now: Double) {
        guard configuration.reclamationCooldown > 0 else { return }
        reclaimCooldown[node] = now + configuration.reclamationCooldown
        view.setReclaimBound(node.rawValue, Self.noRoom)
    }

    /// Whether the node is in a reclamation cooldown as of its last heartbeat (an ended one is forgotten).
    mutating func isCooling(_ node: String) -> Bool {
        guard let id = NodeID(node), let until = reclaimCooldown[id] else { return false }
        if let seen = nodes[id]?.machine.lastSeen, seen < until { return true }
        reclaimCooldown[id] = nil
        return false
    }

    /// Takes what is waiting for a node.
    public mutating func takeOrders(node: NodeID, now: Double) -> AgentOrders {
        nodes.takeOrders(node, now: now, interval: configuration.heartbeatInterval)
    }

    public func hasOrders(node: NodeID) -> Bool { nodes.hasOrders(node) }

    /// What keeps a node from taking work besides being down: `draining` or `drained`, `disk-full`,
    /// `breaker-open`, `breaker-half-open`, `breaker-probing`.
    func conditions(_ node: NodeRegistry.Node) -> [String]? {
        var conditions: [String] = []
        if node.record.drain != nil { conditions.append(isDrained(node.record.id) ? "drained" : "draining") }
        if node.diskFull { conditions.append("disk-full") }
        if node.breaker.name != "closed" { conditions.append("breaker-\(node.breaker.name)") }
        return conditions.isEmpty ? nil : conditions
    }

    public var nodeStatuses: [NodeStatus] {
        nodes.ids.sorted().compactMap { id in
            guard let node = nodes[id] else { return nil }
            let snapshot = view.node(id.rawValue)
            var status = NodeStatus(
                id: id, ready: node.machine.isReady, lastSeen: node.machine.lastSeen, capacity: node.record.capacity,
                reserved: snapshot?.reserved ?? .zero, running: snapshot?.running ?? 0, labels: node.record.labels,
                usage: node.usage, address: node.record.address, info: node.record.info,
                conditions: conditions(node), breaker: node.breaker.name, breakerReason: node.breaker.reason,
                breakerTrips: node.breaker.trips, drain: node.record.drain,
                drained: node.record.drain == nil ? nil : isDrained(id))
            if let reclamation = configuration.reclamation {
                status.reclaimableReserved = snapshot?.reclaimableReserved
                status.reclaimable = view.idleReserved(id.rawValue, ceiling: reclamation.ceiling)
            }
            return status
        }
    }
}
