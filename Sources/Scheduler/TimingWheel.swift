/// A hierarchical timing wheel of one-second ticks (four levels of 64 slots: 64 s, about 73 min, 3 days
/// and 194 days; anything later waits in an overflow list): inserting, moving and removing an entry are
/// constant time, and advancing the clock touches only the slots it passes, never every entry. What the
/// scheduler keeps pending fires of schedules in.
///
/// Slots are plain arrays of (entry, time) pairs, appended to: moving or removing an entry only changes
/// its time in `due`, and the pair left behind is dropped when its slot is reached (its time is no longer
/// the entry's). Left-behind pairs are counted; when they outnumber the live entries, the wheel is rebuilt.
public struct TimingWheel<ID: Hashable & Sendable>: Sendable {
    static var levels: Int { 4 }
    static var slotBits: Int64 { 6 }
    static var slots: Int64 { 1 << slotBits }

    /// The last second advanced to: every entry due at or before it has been handed out.
    public private(set) var now: Int64
    private var wheels: [[[(id: ID, at: Int64)]]]
    private var overflow: [(id: ID, at: Int64)] = []
    /// Each entry's due second: the one pair of it that counts.
    private var due: [ID: Int64] = [:]
    /// Pairs in the slots that no longer count (moved or removed entries).
    private var stale = 0

    public init(now: Int64) {
        self.now = now
        wheels = Array(repeating: Array(repeating: [], count: Int(Self.slots)), count: Self.levels)
    }

    public var count: Int { due.count }
    func time(of id: ID) -> Int64? { due[id] }

    /// Puts `id` in (or moves it) to fire at second `time`; a time not after `now` fires at the next advance.
    public mutating func schedule(_ id: ID, at time: Int64) {
        if due.updateValue(time, forKey: id) != nil { stale += 1 }
        place(id, at: time)
        compactIfStale()
    }

    public mutating func remove(_ id: ID) {
        guard due.removeValue(forKey: id) != nil else { return }
        stale += 1
        compactIfStale()
    }

    /// Advances to `time` and returns every entry due by then, in time order (ties in no set order).
    public mutating func advance(to time: Int64) -> [(id: ID, at: Int64)] {
        guard time > now else { return [] }
        var fired: [(id: ID, at: Int64)] = []
        if due.isEmpty || time - now > Self.slots * Self.slots {
            // A long jump (a scheduler that was down): take what is due directly, and rebuild the rest.
            fired = due.filter { $0.value <= time }.map { ($0.key, $0.value) }
            for entry in fired { due[entry.id] = nil }
            now = time
            rebuild()
        } else {
            while now < time {
                now += 1
                cascade()
                let slot = Int(now & (Self.slots - 1))
                for pair in wheels[0][slot] {
                    if due[pair.id] == pair.at {
                        due[pair.id] = nil
                        fired.append(pair)
                    } else {
                        stale -= 1
                    }
                }
                wheels[0][slot].removeAll(keepingCapacity: true)
            }
        }
        return fired.count > 1 ? fired.sorted { $0.at < $1.at } : fired
    }

    /// Where an entry due at `time` sits, relative to `now`: (level, slot), or nil for the overflow.
    private func position(of time: Int64) -> (Int, Int)? {
        // Due now or earlier: the next tick's slot.
        let target = max(time, now + 1)
        for level in 0..<Self.levels {
            let shift = Self.slotBits * Int64(level)
            // Within this level's span from the current position of its hand.
            if (target >> shift) - (now >> shift) < Self.slots {
                if level > 0 && (target >> shift) == (now >> shift) { continue }
                return (level, Int((target >> shift) & (Self.slots - 1)))
            }
        }
        return nil
    }

    private mutating func place(_ id: ID, at time: Int64) {
        if let (level, slot) = position(of: time) {
            wheels[level][slot].append((id, time))
        } else {
            overflow.append((id, time))
        }
    }

    /// When `now` enters a new slot of a higher level, that slot's entries move down to where they belong.
    private mutating func cascade() {
        for level in 1..<Self.levels {
            let shift = Self.slotBits * Int64(level)
            guard now & ((1 << shift) - 1) == 0 else { break }
            let slot = Int((now >> shift) & (Self.slots - 1))
            let moving = wheels[level][slot]
            wheels[level][slot] = []
            replace(moving)
        }
        if now & ((1 << (Self.slotBits * Int64(Self.levels))) - 1) == 0 {
            let moving = overflow
            overflow = []
            replace(moving)
        }
    }

    /// Places the pairs that still count again; drops the rest.
    private mutating func replace(_ pairs: [(id: ID, at: Int64)]) {
        for pair in pairs {
            if due[pair.id] == pair.at { place(pair.id, at: pair.at) } else { stale -= 1 }
        }
    }

    private mutating func compactIfStale() {
        if stale > max(1024, due.count) { rebuild() }
    }

    private mutating func rebuild() {
        wheels = Array(repeating: Array(repeating: [], count: Int(Self.slots)), count: Self.levels)
        overflow = []
        stale = 0
        for (id, at) in due { place(id, at: at) }
    }
}
