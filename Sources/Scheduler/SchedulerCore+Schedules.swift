import CorralModel
import CorralProtocol

/// Schedules: a job with a `schedule` creates a child job at each fire time. Fires wait on a timing wheel;
/// a due fire is decided here (run, skip, or miss, and which earlier run it replaces) and carried out by
/// the `Scheduler` actor, which stores the schedule's advanced state and the child in one transaction.
extension SchedulerCore {
    /// A fire as decided: the schedule's state after it and, when it runs, the runs to create (one job, or
    /// every job of a scheduled workflow, with its edges) and the runs it replaces (`overlap: replace`).
    public struct Fire: Sendable, Equatable {
        public var schedule: JobID
        public var state: ScheduleState
        public var children: [JobRecord]
        public var replacing: [JobID]
    }

    public func schedule(_ id: JobID) -> (job: JobRecord, state: ScheduleState)? {
        schedules[id].map { ($0.job, $0.state) }
    }

    public var allSchedules: [JobRecord] { schedules.ids.compactMap { schedules[$0]?.job } }

    /// A schedule's runs still held, in fire order.
    public func runs(of id: JobID) -> [JobRecord] {
        (schedules.children[id] ?? []).compactMap { table.job($0.job) }
    }

    /// Runs of the schedule not yet ended.
    public func activeRuns(of id: JobID) -> [JobID] {
        (schedules.children[id] ?? []).map(\.job).filter { table.isOpen($0) }
    }

    /// The state a new schedule starts with: its first fire after `now`.
    public mutating func firstState(of spec: JobSchedule, now: Double) -> ScheduleState {
        ScheduleState(nextFire: schedules.next(spec, after: Int64(now.rounded(.down))))
    }

    /// Whether the scheduler's zone database knows the zone.
    public mutating func knowsZone(_ name: String) -> Bool { schedules.zone(name) != nil }

    /// Takes in a schedule made durable (new, or loaded), with the bytes its state is stored as.
    public mutating func admitSchedule(_ job: JobRecord, state: ScheduleState, stored: [UInt8]?) {
        schedules.insert(.init(job: job, state: state, stored: stored))
    }

    /// The schedules whose next fire is due at `now`, taken off the wheel.
    public mutating func dueSchedules(now: Double) -> [JobID] {
        schedules.wheel.advance(to: Int64(now.rounded(.down))).map(\.id)
    }

    /// Decides the due fire of a schedule. Fire times that passed together (a stall) are one fire: the
    /// latest runs, the others are missed. A fire that passed while no scheduler led (before
    /// `leadingSince`) runs only with `catchUp: one`; one later than `startingDeadline` never runs. With a
    /// run still going, `forbid` skips and `replace` replaces it. Nil: nothing is due (paused, cancelled,
    /// moved).
    public mutating func decideFire(
        _ id: JobID, newID: () -> JobID, now: Double, leadingSince: Double
    ) -> Fire? {
        guard let entry = schedules[id], !entry.job.cancelled, !entry.state.paused,
            let spec = entry.job.spec.schedule, let first = entry.state.nextFire
        else { return nil }
        let second = Int64(now.rounded(.down))
        guard first <= second else {
            schedules.arm(id)
            return nil
        }
        var state = entry.state
        let (latest, passed) = latestFire(spec, from: first, atOrBefore: second)
        state.nextFire = schedules.next(spec, after: second)
        state.missed += passed - 1
        func skip(_ why: String, missed: Bool) -> Fire {
            if missed { state.missed += 1 } else { state.skipped += 1 }
            state.lastSkip = "fire at \(latest) \(why)"
            return Fire(schedule: id, state: state, children: [], replacing: [])
        }
        if Double(latest) < leadingSince.rounded(.down), spec.catchUp == .none {
            return skip("passed while no scheduler was running (catchUp: none)", missed: true)
        }
        if let deadline = spec.startingDeadline, now - Double(latest) > deadline.inSeconds {
            return skip("came \(Int(now) - Int(latest)) s late, past startingDeadline", missed: true)
        }
        let active = activeRuns(of: id)
        var replacing: [JobID] = []
        if let running = active.first {
            switch spec.overlap {
            case .allow: break
            case .forbid: return skip("skipped: run \(running) has not ended (overlap: forbid)", missed: false)
            case .replace: replacing = active
            }
        }
        var specs = entry.job.workflow ?? [entry.job.spec]
        for index in specs.indices {
            specs[index].schedule = nil
            specs[index].name = JobSchedule.childName(specs[index].name, fire: latest)
        }
        if replacing.isEmpty {
            var total = specs[0]
            total.count = specs.reduce(0) { $0 + $1.count }
            if let why = overLimit(total) { return skip("skipped: \(why)", missed: false) }
        }
        // A workflow's edges name its jobs: each run's edges point at the runs of this fire.
        let names = (entry.job.workflow ?? []).map(\.name)
        let ids = Dictionary(names.map { ($0, newID()) }, uniquingKeysWith: { a, _ in a })
        var children: [JobRecord] = []
        for (index, spec) in specs.enumerated() {
            var spec = spec
            var nodes: [NodeID]?
            if spec.placement == .eachNode {
                guard let broadcast = broadcast(spec) else {
                    return skip("skipped: \(spec.name) found no ready node (placement.mode each-node)", missed: false)
                }
                (spec, nodes) = (broadcast.spec, broadcast.nodes)
            }
            var child = makeJobRecord(spec, id: names.isEmpty ? newID() : ids[names[index]]!, now: now)
            child.nodes = nodes
            child.schedule = id
            child.fire = latest
            let upstream = spec.dependsOn.compactMap { edge in
                ids[edge.job].map { JobRecord.Upstream(job: $0, on: edge.on) }
            }
            child.upstream = upstream.isEmpty ? nil : upstream
            children.append(child)
        }
        state.fired += 1
        state.lastFire = latest
        state.lastSkip = entry.state.lastSkip
        return Fire(schedule: id, state: state, children: children, replacing: replacing)
    }

    /// The latest fire time at or before `second`, starting from the due fire `first`, and how many fire
    /// times that is (counted up to 10,000; past that, found by searching back from `second`).
    mutating func latestFire(_ spec: JobSchedule, from first: Int64, atOrBefore second: Int64) -> (Int64, Int) {
        var latest = first
        var count = 1
        while count < 10_000, let next = schedules.next(spec, after: latest), next <= second {
            latest = next
            count += 1
        }
        guard count == 10_000 else { return (latest, count) }
        for window: Int64 in [60, 3600, 86_400, 31 * 86_400, 366 * 86_400] where window < second - latest {
            guard var candidate = schedules.next(spec, after: second - window), candidate <= second else { continue }
            while let next = schedules.next(spec, after: candidate), next <= second { candidate = next }
            return (candidate, count)
        }
        return (latest, count)
    }

    /// Takes in a fire whose state and child were stored.
    public mutating func commitFire(_ fire: Fire, stored: [UInt8], now: Double) {
        schedules.update(fire.schedule, state: fire.state, stored: stored)
        for child in fire.children {
            admit(child, now: now)
            schedules.addChild(child.id, fire: child.fire ?? 0, of: fire.schedule)
        }
    }

    /// A fire's write failed: the same fire is tried again in a second.
    public mutating func retryFire(_ id: JobID, now: Double) { schedules.retry(id, now: now) }

    /// A schedule paused or resumed (stored as `stored`): the state it has now.
    public mutating func setPaused(_ id: JobID, _ paused: Bool, now: Double) -> ScheduleState? {
        guard let entry = schedules[id], let spec = entry.job.spec.schedule else { return nil }
        var state = entry.state
        state.paused = paused
        // Resumed: from now on, not from where it stopped.
        if !paused { state.nextFire = schedules.next(spec, after: Int64(now.rounded(.down))) }
        return state
    }

    public mutating func storeScheduleState(_ id: JobID, _ state: ScheduleState, stored: [UInt8]) {
        schedules.update(id, state: state, stored: stored)
    }

    /// The bytes a schedule's state was last stored as (what the next write of it compares against).
    public func storedState(of id: JobID) -> [UInt8]? { schedules[id]?.stored }

    public mutating func cancelSchedule(_ id: JobID, now: Double) { schedules.markCancelled(id, at: now) }

    /// Ended runs past each schedule's `keepRuns` fires (oldest first; a workflow's fire is all its jobs),
    /// and cancelled schedules past `endedJobRetention` with every run of theirs ended: what the retention
    /// sweep removes.
    public func expiredRuns(now: Double, limit: Int) -> [JobID] {
        var expired: [JobID] = []
        for id in schedules.ids {
            guard let entry = schedules[id], let spec = entry.job.spec.schedule else { continue }
            let fires = Dictionary(grouping: schedules.children[id] ?? [], by: \.fire)
            let ended = fires.keys.sorted().filter { fire in fires[fire]!.allSatisfy { !table.isOpen($0.job) } }
            let old = entry.job.cancelled && now - (entry.job.cancelledAt ?? now) > configuration.endedJobRetention
            let removed = old && ended.count == fires.count ? ended[...] : ended.dropLast(spec.keepRuns)
            expired += removed.flatMap { fires[$0]!.map(\.job) }
            if old && ended.count == fires.count { expired.append(id) }
            if expired.count >= limit { break }
        }
        return Array(expired.prefix(limit))
    }

    /// Forgets a schedule or a run of one (after the store did).
    mutating func forgetScheduled(_ id: JobID) {
        if let parent = table.job(id)?.schedule { schedules.removeChild(id, of: parent) }
        if schedules[id] != nil { schedules.remove(id) }
    }
}
