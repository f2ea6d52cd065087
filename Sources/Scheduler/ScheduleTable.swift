import CorralModel
import CorralProtocol
import Foundation

/// A schedule's own state (`schedules/<id>`), beside its job record: when it fires next and what its
/// fires came to. Written in the same transaction as the child a fire creates, so that a fire happens
/// once whatever crashes.
public struct ScheduleState: Sendable, Codable, Equatable {
    /// The next fire time (Unix seconds); nil when the expression fires no more.
    public var nextFire: Int64?
    /// The latest fire that created a child.
    public var lastFire: Int64?
    public var paused = false
    /// Fires that created a child; skipped because of `overlap: forbid` or a tenant limit; missed (later
    /// than `startingDeadline`, or passed while no scheduler ran and not caught up).
    public var fired = 0
    public var skipped = 0
    public var missed = 0
    /// Why the latest fire that did not run did not.
    public var lastSkip: String?

    public init(nextFire: Int64?) { self.nextFire = nextFire }
}

/// The schedules the scheduler holds: each one's job record and state (with the bytes last stored, which
/// every write compares against), its children in fire order, and a timing wheel of next fire times.
struct ScheduleTable: Sendable {
    struct Entry: Sendable {
        var job: JobRecord
        var state: ScheduleState
        var stored: [UInt8]?
    }

    private(set) var entries: [JobID: Entry] = [:]
    /// Each schedule's children (by fire time), including ended ones not yet removed.
    private(set) var children: [JobID: [(fire: Int64, job: JobID)]] = [:]
    var wheel = TimingWheel<JobID>(now: 0)
    private var zones: [String: TimeZone] = [:]

    subscript(id: JobID) -> Entry? { entries[id] }
    var ids: Dictionary<JobID, Entry>.Keys { entries.keys }

    mutating func insert(_ entry: Entry) {
        entries[entry.job.id] = entry
        if entry.job.cancelled || entry.state.paused { wheel.remove(entry.job.id) } else { arm(entry.job.id) }
    }

    mutating func update(_ id: JobID, state: ScheduleState, stored: [UInt8]) {
        entries[id]?.state = state
        entries[id]?.stored = stored
        if state.paused { wheel.remove(id) } else { arm(id) }
    }

    mutating func markCancelled(_ id: JobID, at time: Double) {
        entries[id]?.job.cancelled = true
        entries[id]?.job.cancelledAt = time
        wheel.remove(id)
    }

    mutating func remove(_ id: JobID) {
        entries[id] = nil
        wheel.remove(id)
    }

    /// Puts the schedule's next fire on the wheel (or takes it off when there is none).
    mutating func arm(_ id: JobID) {
        if let next = entries[id]?.state.nextFire { wheel.schedule(id, at: next) } else { wheel.remove(id) }
    }

    /// Tries a fire again a second from now (its write failed).
    mutating func retry(_ id: JobID, now: Double) { wheel.schedule(id, at: Int64(now.rounded(.down)) + 1) }

    mutating func addChild(_ child: JobID, fire: Int64, of schedule: JobID) {
        var list = children[schedule, default: []]
        let at = list.firstIndex { $0.fire > fire } ?? list.endIndex
        list.insert((fire, child), at: at)
        children[schedule] = list
    }

    mutating func removeChild(_ child: JobID, of schedule: JobID) {
        children[schedule]?.removeAll { $0.job == child }
        if children[schedule]?.isEmpty == true { children[schedule] = nil }
    }

    /// The zone a schedule names, from the system's zone database; nil for a name it does not know.
    mutating func zone(_ name: String) -> TimeZone? {
        if let zone = zones[name] { return zone }
        let zone = TimeZone(identifier: name)
        if let zone, zones.count < 1000 { zones[name] = zone }
        return zone
    }

    /// The schedule's first fire time after `instant`, in its zone.
    mutating func next(_ schedule: JobSchedule, after instant: Int64) -> Int64? {
        guard let zone = zone(schedule.timeZone) else { return nil }
        return schedule.cron.next(after: instant) { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double($0))) }
    }
}
