import CorralModel
import CorralProtocol
import Placement

extension SchedulerCore {
    mutating func enqueue(_ id: TaskID) {
        guard let job = table.job(id.job) else { return }
        queue.push(TaskQueue.Item(priority: job.spec.priority, sequence: job.sequence, task: id))
    }

    /// What the agent is told to run for a placed task, or nil when it holds no allocation.
    func makeAllocation(_ record: TaskRecord, _ job: JobRecord) -> Allocation? {
        record.allocation.map { id in
            Allocation(
                id: id, tenant: job.spec.tenant, command: job.spec.command, environment: job.spec.environment,
                image: job.spec.image, resources: job.spec.resources, timeoutMs: job.spec.timeout?.wholeMilliseconds,
                network: job.spec.network.mode == .none ? nil : job.spec.network, taskCount: job.spec.count,
                volumes: job.spec.volumes.isEmpty ? nil : job.spec.volumes,
                restart: job.spec.type == .service ? job.spec.restart : nil,
                checks: job.spec.type == .service && !job.spec.checks.isEmpty ? job.spec.checks : nil,
                checkpointIntervalMs: job.spec.checkpointLimit > 0
                    ? job.spec.checkpointInterval.wholeMilliseconds : nil,
                checkpointLimit: job.spec.checkpointLimit > 0 ? job.spec.checkpointLimit : nil,
                reclaimable: job.spec.reclaimable ? true : nil)
        }
    }

    /// Runs one event through a task's machine and carries out its actions. Returns the record when it
    /// changed.
    @discardableResult
    mutating func apply(_ event: TaskMachine.Event, to id: TaskID, now: Double) -> TaskRecord? {
        guard var record = table[id], let job = table.job(id.job) else { return nil }
        let before = record
        let actions = record.machine.handle(event)
        switch event {
        case .placed(let node):
            record.startedAt = nil  // a new attempt; the last one's start stays visible until this one starts
            record.network = nil
            record.health = nil
            if before.state == .pending, record.machine.node == node {
                record.allocation = AllocationID(task: id, attempt: record.machine.attempt)
                record.notBefore = nil
                record.placedAt = now
                counters.placed += 1
                if record.machine.attempt == 1 { counters.submitToPlaced.observe(now - job.submittedAt) }
                ledger.hold(job.spec.resources, tenant: job.spec.tenant, reclaimable: job.spec.reclaimable)
            }
        case .started:
            record.startedAt = now
            if before.state == .scheduled, let placed = record.placedAt {
                counters.placedToRunning.observe(now - placed)
            }
            if let timeout = job.spec.timeout { timers.deadline(id, at: now + timeout.inSeconds, runStartedAt: now) }
        case .exited(let code, _):
            record.exitCode = code
            // Ended before any report said it runs: it ran, and this is when the scheduler heard of it.
            if before.state == .scheduled { record.startedAt = now }
        case .evicted:
            if before.state.isPlaced { counters.evicted += 1 }
        case .crashed, .lost, .timedOut, .cancel:
            break
        }
        for action in actions {
            switch action {
            case .release(let node):
                release(job.spec, on: node)
                if let allocation = record.allocation { nodes.withdraw(allocation, from: node) }
                record.allocation = nil
                unblock(releasedBy: job.spec.tenant)
            case .kill(let node):
                if let allocation = record.allocation { nodes.kill(allocation, on: node) }
            case .retry(let attempt):
                // A task lost with its node or evicted did nothing wrong: it is re-placed at once, not after a
                // backoff.
                var at = now
                switch event {
                case .lost, .evicted: break
                default: at += job.spec.retry.delay(beforeAttempt: attempt, random: random()).inSeconds
                }
                record.notBefore = at
                timers.retry(id, at: at)
            case .deadLetter(let error):
                alertEvents.record(
                    .deadLetter, subject: id.description,
                    summary: "task \(id) of job \(job.spec.name) (tenant \(job.spec.tenant)) used up its "
                        + "\(record.machine.attemptsUsed) attempt(s): \(error)", at: now)
            }
        }
        guard record != before else { return nil }
        record.updatedAt = now
        table.update(record)
        if record.state.isTerminal, !table.isOpen(id.job) { graph.ended(id.job) }
        return record
    }

    /// Something was released (by a task of `tenant`) or a node appeared (nil): the waiting jobs it may
    /// help go back to the queue, each by its first waiting task (`BlockedTasks`).
    mutating func unblock(releasedBy tenant: String?) {
        guard !blocked.isEmpty else { return }
        for id in blocked.representatives(releasedBy: tenant) { enqueue(id) }
    }

    mutating func unblockAll() { unblock(releasedBy: nil) }

    // MARK: Placement

    /// Places queued tasks in priority order until the queue is empty. Tasks over their tenant's quota
    /// or with no node to take them wait in `blocked` until resources are released or nodes appear.
    public mutating func schedule(now: Double) -> [TaskRecord] {
        var changed: [TaskRecord] = []
        var requests: [JobID: PlacementRequest] = [:]
        // Within one pass free capacity only shrinks: a job that found no node keeps finding none.
        var unplaceable: [JobID: String] = [:]
        while let item = queue.pop() {
            examined += 1
            guard let record = table[item.task], record.state == .pending, let job = table.job(item.task.job) else {
                // Cancelled or placed meanwhile: the job's next waiting task takes its turn.
                if let next = blocked.resolved(item.task) { enqueue(next) }
                continue
            }
            if let at = record.notBefore, at > now { continue }
            let tenant = job.spec.tenant
            if !ledger.admits(job.spec.resources, tenant: tenant, reclaimable: job.spec.reclaimable) {
                counters.waitedForQuota += 1
                blocked.block(
                    item.task, tenant: tenant, reason: "waiting for tenant \(tenant)'s quota", waitsForQuota: true)
                continue
            }
            let pinned = job.nodes.flatMap { $0.indices.contains(item.task.index) ? $0[item.task.index] : nil }
            if pinned == nil, let reason = unplaceable[job.id] {
                counters.waitedForRoom += 1
                blocked.block(item.task, tenant: tenant, reason: reason, waitsForQuota: false)
                continue
            }
            let request =
                requests[job.id]
                ?? view.request(
                    ResourceVector(job.spec.resources), constraints: job.spec.placementConstraints,
                    horizon: configuration.horizon(forExpectedDuration: job.spec.expectedDuration?.inSeconds))
            requests[job.id] = request
            let placement =
                job.spec.reclaimable
                ? view.placeReclaimable(request)
                : pinned.map { view.place(request, on: $0.rawValue) } ?? view.place(request)
            switch placement {
            case .failure(let reason):
                counters.waitedForRoom += 1
                let why = pinned.map { "node \($0): \(reason)" } ?? reason.description
                if pinned == nil { unplaceable[job.id] = why }
                blocked.block(item.task, tenant: tenant, reason: why, waitsForQuota: false)
            case .success(let choice):
                guard let node = NodeID(choice.node), let placed = apply(.placed(node: node), to: item.task, now: now)
                else { continue }
                if !nodes.halfOpen.isEmpty, nodes.halfOpen.contains(node), let allocation = placed.allocation {
                    breaker(.placed(allocation, at: now), node: node)
                }
                changed.append(placed)
                if let next = blocked.resolved(item.task) { enqueue(next) }
            }
        }
        return changed
    }

    /// Hands placed allocations to their nodes' outboxes (after they were persisted).
    public mutating func deliver(_ records: [TaskRecord]) {
        for record in records where record.state == .scheduled {
            guard let node = record.machine.node, let job = table.job(record.id.job),
                let allocation = makeAllocation(record, job)
            else { continue }
            nodes.send(allocation, to: node)
        }
    }

    // MARK: Time

    /// Due retries go back to the queue, running tasks past their timeout fail, silent nodes go down
    /// and their tasks are lost. Returns the changed records.
    public mutating func tick(now: Double) -> [TaskRecord] {
        var changed: [TaskRecord] = []
        // Evicted first, so that they are placed in this pass.
        if !nodes.draining.isEmpty { changed += evictDrained(now: now) }
        for task in timers.dueRetries(now: now) { enqueue(task) }
        for deadline in timers.expiredDeadlines(now: now) {
            // Only the run the deadline was set for: the task may have ended, or restarted since.
            guard let record = table[deadline.task], record.state == .running, record.startedAt == deadline.started
            else { continue }
            if let record = apply(.timedOut, to: deadline.task, now: now) { changed.append(record) }
        }
        let ttl = self.ttl
        for id in Array(nodes.ids) { breaker(.tick(at: now), node: id) }
        for id in Array(nodes.ids) {
            for action in nodes.handle(.tick(at: now, ttl: ttl), node: id) {
                changed += carryOut(action, node: id, now: now, ttl: ttl)
            }
        }
        return changed
    }

    /// Carries out what a node's machine decided.
    mutating func carryOut(_ action: NodeMachine.Action, node id: NodeID, now: Double, ttl: Double) -> [TaskRecord] {
        switch action {
        case .markReady:
            view.setReady(id.rawValue, placeable(id))
            unblockAll()
            return []
        case .markDown:
            view.setReady(id.rawValue, false)
            return table.placed(on: id).compactMap {
                apply(.lost("node \(id) stopped reporting for \(Int(ttl)) s"), to: $0, now: now)
            }
        }
    }
}
