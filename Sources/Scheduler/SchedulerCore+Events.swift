import CorralModel
import Placement

extension SchedulerCore {
    mutating func enqueue(_ id: TaskID) {
        guard let job = jobs[id.job] else { return }
        queue.push(TaskQueue.Item(priority: job.spec.priority, sequence: job.sequence, task: id))
    }

    func makeAllocation(_ record: TaskRecord, _ job: JobRecord) -> Allocation {
        Allocation(
            id: record.allocation ?? "", task: record.id, attempt: record.machine.attempt, tenant: job.spec.tenant,
            command: job.spec.command, environment: job.spec.environment, image: job.spec.image,
            resources: job.spec.resources,
            timeoutMs: job.spec.timeout?.wholeMilliseconds)
    }

    /// Runs one event through a task's machine and carries out its actions. Returns whether it changed.
    @discardableResult
    mutating func apply(_ event: TaskMachine.Event, to id: TaskID, now: Double) -> Bool {
        guard var record = tasks[id], let job = jobs[id.job] else { return false }
        let before = record
        let actions = record.machine.handle(event)
        switch event {
        case .placed:
            record.startedAt = nil  // a new attempt; the last one's start stays visible until this one starts
        case .started:
            record.startedAt = now
            if let timeout = job.spec.timeout { deadlines.append((now + timeout.inSeconds, id, now)) }
        case .exited(let code, _):
            record.exitCode = code
            // Ended before any report said it runs: it ran, and this is when the scheduler heard of it.
            if before.state == .scheduled { record.startedAt = now }
        default: break
        }
        for action in actions {
            switch action {
            case .release(let node):
                view.release(ResourceVector(job.spec.resources), on: node)
                usage[job.spec.tenant]?.remove(job.spec.resources)
                if let allocation = record.allocation { allocations[allocation] = nil }
                nodes[node]?.outbox.removeAll { $0.id == record.allocation }
                record.allocation = nil
                unblockAll()
            case .kill(let node):
                if let allocation = record.allocation { nodes[node]?.kills.append(allocation) }
            case .retry(let attempt):
                // A task lost with its node did nothing wrong: it is re-placed at once, not after a backoff.
                var at = now
                switch event {
                case .lost: break
                default: at += job.spec.retry.delay(beforeAttempt: attempt, random: random()).inSeconds
                }
                record.notBefore = at
                retries.append((at, id))
            case .deadLetter:
                break
            }
        }
        guard record != before else { return false }
        record.updatedAt = now
        tasks[id] = record
        return true
    }

    mutating func unblockAll() {
        guard !blocked.isEmpty else { return }
        for id in blocked.keys { enqueue(id) }
        blocked.removeAll()
    }

    // MARK: Placement

    /// Places queued tasks in priority order until the queue is empty. Tasks over their tenant's quota
    /// or with no node to take them wait in `blocked` until resources are released or nodes appear.
    public mutating func schedule(now: Double) -> [TaskRecord] {
        var changed: [TaskRecord] = []
        var requests: [String: PlacementRequest] = [:]
        // Within one pass free capacity only shrinks: a job that found no node keeps finding none.
        var unplaceable: [String: String] = [:]
        while let item = queue.pop() {
            guard let record = tasks[item.task], record.state == .pending, let job = jobs[item.task.job] else {
                continue
            }
            if let at = record.notBefore, at > now { continue }
            if let quota = configuration.quotas[job.spec.tenant],
                !usage(of: job.spec.tenant).admits(job.spec.resources, under: quota)
            {
                blocked[item.task] = "waiting for tenant \(job.spec.tenant)'s quota"
                continue
            }
            if let reason = unplaceable[job.id] {
                blocked[item.task] = reason
                continue
            }
            let request =
                requests[job.id]
                ?? view.request(
                    ResourceVector(job.spec.resources), constraints: job.spec.constraints,
                    horizon: configuration.horizon(forExpectedDuration: job.spec.expectedDuration?.inSeconds))
            requests[job.id] = request
            switch view.place(request) {
            case .failure(let reason):
                unplaceable[job.id] = reason.description
                blocked[item.task] = reason.description
            case .success(let choice):
                apply(.placed(node: choice.node), to: item.task, now: now)
                guard var placed = tasks[item.task] else { continue }
                placed.allocation = "\(item.task.job).\(item.task.index).\(placed.machine.attempt)"
                placed.notBefore = nil
                tasks[item.task] = placed
                allocations[placed.allocation!] = item.task
                usage[job.spec.tenant, default: TenantUsage()].add(job.spec.resources)
                changed.append(placed)
            }
        }
        return changed
    }

    /// Hands placed allocations to their nodes' outboxes (after they were persisted).
    public mutating func deliver(_ records: [TaskRecord]) {
        for record in records where record.state == .scheduled {
            guard let node = record.machine.node, let job = jobs[record.id.job] else { continue }
            let allocation = makeAllocation(record, job)
            nodes[node]?.outbox.append(allocation)
        }
    }

    // MARK: Time

    /// Due retries go back to the queue, running tasks past their timeout fail, silent nodes go down
    /// and their tasks are lost. Returns the changed records.
    public mutating func tick(now: Double) -> [TaskRecord] {
        var changed: [TaskRecord] = []
        let due = retries.filter { $0.at <= now }
        retries.removeAll { $0.at <= now }
        for retry in due { enqueue(retry.task) }
        let expired = deadlines.filter { $0.at < now }
        deadlines.removeAll { $0.at < now }
        for deadline in expired {
            // Only the run the deadline was set for: the task may have ended, or restarted since.
            guard let record = tasks[deadline.task], record.state == .running, record.startedAt == deadline.started
            else { continue }
            if apply(.timedOut, to: deadline.task, now: now) { changed.append(tasks[deadline.task]!) }
        }
        let ttl = self.ttl
        for (id, node) in nodes where node.ready && now - node.lastSeen > ttl {
            nodes[id]?.ready = false
            view.setReady(id, false)
            let placedThere = allocations.values.filter { tasks[$0]?.machine.node == id }
            for task in placedThere.sorted() {
                if apply(.lost("node \(id) stopped reporting for \(Int(ttl)) s"), to: task, now: now) {
                    changed.append(tasks[task]!)
                }
            }
        }
        return changed
    }
}
