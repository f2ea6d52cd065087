/// A hierarchical timing wheel of one-second ticks (four levels of 64 slots: 64 s, about 73 min, 3 days
/// and 194 days; anything later waits in an overflow list): inserting, moving and removing an entry are
/// constant time, and advancing the clock touches only the slots it passes, never every entry. What the
/// scheduler keeps pending fires of schedules in.
public struct TimingWheel<ID: Hashable & Sendable>: Sendable {
    static var levels: Int { 4 }
    static var slotBits: Int64 { 6 }
    static var slots: Int64 { 1 << slotBits }

    /// The last second advanced to: every entry due at or before it has been handed out.
    public private(set) var now: Int64
    private var wheels: [[Set<ID>]]
    private var overflow: Set<ID> = []
    /// Each entry's due second, and so where it sits.
    private var due: [ID: Int64] = [:]

    public init(now: Int64) {
        self.now = now
        wheels = Array(repeating: Array(repeating: [], count: Int(Self.slots)), count: Self.levels)
    }

    public var count: Int { due.count }
    func time(of id: ID) -> Int64? { due[id] }

    /// Puts `id` in (or moves it) to fire at second `time`; a time not after `now` fires at the next advance.
    public mutating func schedule(_ id: ID, at time: Int64) {
        remove(id)
        due[id] = time
        place(id, at: time)
    }

    public mutating func remove(_ id: ID) {
        guard let time = due.removeValue(forKey: id) else { return }
        if let (level, slot) = position(of: time) {
            wheels[level][slot].remove(id)
        } else {
            overflow.remove(id)
        }
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
                for id in wheels[0][slot] {
                    if let at = due.removeValue(forKey: id) { fired.append((id, at)) }
                }
                wheels[0][slot] = []
            }
        }
        return fired.sorted { $0.at < $1.at }
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
            wheels[level][slot].insert(id)
        } else {
            overflow.insert(id)
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
            for id in moving { if let at = due[id] { place(id, at: at) } }
        }
        if now & ((1 << (Self.slotBits * Int64(Self.levels))) - 1) == 0 {
            let moving = overflow
            overflow = []
            for id in moving { if let at = due[id] { place(id, at: at) } }
        }
    }

    private mutating func rebuild() {
        wheels = Array(repeating: Array(repeating: [], count: Int(Self.slots)), count: Self.levels)
        overflow = []
        for (id, at) in due { place(id, at: at) }
    }
}
