import CorralModel
import CorralProtocol
import Logging
import Store

/// Schedules through the store: a schedule's record and first state are stored together at submission;
/// each fire stores the schedule's advanced state and its child in one transaction that compares the
/// state last stored, so that a fire creates its child once, across a crash or a change of leader.
extension Scheduler {
    func submitSchedule(_ spec: JobSchedule, _ job: JobSpec, workflow: [JobSpec]? = nil) async throws -> JobRecord {
        guard core.knowsZone(spec.timeZone) else {
            throw SchedulerError.invalid(
                field: "schedule.timeZone", "\(spec.timeZone) is not in the scheduler's time zone database")
        }
        let state = core.firstState(of: spec, now: now())
        guard state.nextFire != nil else {
            throw SchedulerError.invalid(field: "schedule.cron", "\(spec.cron) never fires in \(spec.timeZone)")
        }
        var record = core.makeJobRecord(job, id: Self.newJobID(), now: now())
        record.workflow = workflow
        let bytes = try encode(state)
        // Each fire stores the state and every job of the workflow in one transaction: it must fit.
        let fire =
            try [Op.put(StoreKeys.schedule(record.id), bytes)]
            + (workflow ?? [job]).map {
                Op.put(
                    StoreKeys.job(record.id),
                    try encode(JobRecord(id: record.id, spec: $0, sequence: 0, submittedAt: 0)))
            }
        guard store.fits(fire) else {
            throw SchedulerError.invalid(
                field: "jobs", "a fire's \(fire.count - 1) jobs do not fit in one transaction of the store")
        }
        _ = try await store.txn(
            if: [.absent(StoreKeys.job(record.id)), .absent(StoreKeys.schedule(record.id))],
            then: [.put(StoreKeys.job(record.id), try encode(record)), .put(StoreKeys.schedule(record.id), bytes)])
        core.admitSchedule(record, state: state, stored: bytes)
        logger.info(
            "schedule added",
            metadata: ["job": "\(record.id)", "cron": "\(spec.cron)", "next": "\(state.nextFire ?? 0)"])
        return record
    }

    public func schedule(_ id: JobID) -> (job: JobRecord, state: ScheduleState)? { core.schedule(id) }
    public func runs(of id: JobID) -> [JobRecord] { core.runs(of: id) }
    public func activeRuns(of id: JobID) -> [JobID] { core.activeRuns(of: id) }

    /// Carries out every fire due now; a fire whose write fails is tried again a second later.
    func fireDueSchedules() async {
        for id in core.dueSchedules(now: now()) {
            do { try await fire(id) } catch {
                core.retryFire(id, now: now())
                logger.error("a schedule's fire was not stored", metadata: ["job": "\(id)", "error": "\(error)"])
            }
        }
    }

    func fire(_ id: JobID) async throws {
        let time = now()
        guard let fire = core.decideFire(id, newID: Self.newJobID, now: time, leadingSince: leadingSince) else {
            return
        }
        let bytes = try encode(fire.state)
        try await writeState(id, bytes, also: try fire.children.map { .put(StoreKeys.job($0.id), try encode($0)) })
        core.commitFire(fire, stored: bytes, now: time)
        if let child = fire.children.first {
            logger.info(
                "schedule fired",
                metadata: ["job": "\(id)", "runs": "\(fire.children.map(\.id.rawValue))", "fire": "\(child.fire ?? 0)"])
        } else if let why = fire.state.lastSkip {
            logger.notice("schedule did not fire", metadata: ["job": "\(id)", "why": "\(why)"])
        }
        for old in fire.replacing {
            logger.info("a schedule's run is replaced by the next", metadata: ["run": "\(old)"])
            _ = try await cancel(job: old)
        }
        if !fire.children.isEmpty {
            try await persist([])
            try await schedule()
        }
    }

    /// Stores a schedule's new state (and `also`, in the same transaction) if its stored state is still the
    /// one this scheduler last wrote or loaded.
    func writeState(_ id: JobID, _ bytes: [UInt8], also: [Op] = []) async throws {
        let key = StoreKeys.schedule(id)
        let compare: Compare = core.storedState(of: id).map { .value(key, $0) } ?? .absent(key)
        guard try await store.txn(if: [compare], then: [.put(key, bytes)] + also).succeeded else {
            throw SchedulerError.conflict("schedule \(id)'s stored state changed under this scheduler")
        }
    }

    /// Pauses or resumes a schedule; nil for a job that is not one.
    public func setPaused(_ id: JobID, _ paused: Bool) async throws -> ScheduleState? {
        guard let state = core.setPaused(id, paused, now: now()) else { return nil }
        let bytes = try encode(state)
        try await writeState(id, bytes)
        core.storeScheduleState(id, state, stored: bytes)
        logger.info(paused ? "schedule paused" : "schedule resumed", metadata: ["job": "\(id)"])
        return state
    }

    /// Cancels a schedule: it fires no more, and its runs still going are cancelled.
    func cancelSchedule(_ record: JobRecord) async throws -> JobRecord? {
        var cancelled = record
        cancelled.cancelled = true
        cancelled.cancelledAt = now()
        _ = try await store.txn(then: [.put(StoreKeys.job(record.id), try encode(cancelled))])
        core.cancelSchedule(record.id, now: now())
        for run in core.activeRuns(of: record.id) { _ = try await cancel(job: run) }
        return core.job(record.id)
    }
}
