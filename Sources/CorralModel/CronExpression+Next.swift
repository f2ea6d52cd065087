/// When a cron expression fires next, in a time zone given by its UTC offsets, with daylight saving
/// handled as the issue asks: a local time that does not exist (clocks moved forward over it) fires once,
/// at the instant the gap ends; a local time that occurs twice (clocks moved back) fires once, at its
/// first occurrence.
extension CronExpression {
    /// A zone as the search needs it: the offset from UTC, in seconds, in force at an instant (Unix seconds).
    public typealias Offsets = @Sendable (Int64) -> Int

    /// The first fire time strictly after `instant` (Unix seconds), or nil when there is none within 10
    /// years (an expression such as `0 0 0 30 2 *`).
    public func next(after instant: Int64, offsets: Offsets) -> Int64? {
        var civil = Civil(instant + Int64(offsets(instant)))
        // A local time past `instant` is looked for from the next second on; bounded by the years.
        let limit = civil.year + 10
        civil = civil.adding(seconds: 1)
        while let candidate = nextCivil(from: civil, before: limit) {
            let fire = Self.resolve(candidate.seconds, offsets: offsets)
            if fire > instant { return fire }
            // The second pass of a repeated hour: its times fired on the first pass.
            civil = candidate.adding(seconds: 1)
        }
        return nil
    }

    /// The first local time at or after `start` that matches, before the start of year `limit`.
    func nextCivil(from start: Civil, before limit: Int) -> Civil? {
        var c = start
        while c.year < limit {
            guard months & (1 << UInt64(c.month)) != 0 else {
                c = c.month == 12 ? Civil(c.year + 1, 1, 1) : Civil(c.year, c.month + 1, 1)
                continue
            }
            guard c.day <= Civil.daysIn(c.year, c.month), matchesDay(day: c.day, weekday: c.weekday) else {
                c = Civil(c.year, c.month, c.day).adding(days: 1)
                continue
            }
            guard let hour = Self.first(hours, from: c.hour, to: 23) else {
                c = Civil(c.year, c.month, c.day).adding(days: 1)
                continue
            }
            if hour != c.hour { c = Civil(c.year, c.month, c.day, hour) }
            guard let minute = Self.first(minutes, from: c.minute, to: 59) else {
                c = Civil(c.year, c.month, c.day, c.hour).adding(seconds: 3600)
                continue
            }
            if minute != c.minute { c = Civil(c.year, c.month, c.day, c.hour, minute) }
            guard let second = Self.first(seconds, from: c.second, to: 59) else {
                c = Civil(c.year, c.month, c.day, c.hour, c.minute).adding(seconds: 60)
                continue
            }
            return Civil(c.year, c.month, c.day, c.hour, c.minute, second)
        }
        return nil
    }

    /// The lowest set bit of `bits` in `from...to`.
    static func first(_ bits: UInt64, from: Int, to: Int) -> Int? {
        guard from <= to else { return nil }
        let masked = (bits >> UInt64(from)) << UInt64(from)
        guard masked != 0 else { return nil }
        let value = masked.trailingZeroBitCount
        return value <= to ? value : nil
    }

    /// The instant of local time `local` (seconds as if it were UTC): the earliest instant that shows it,
    /// or, when none does (a gap), the instant the gap ends.
    static func resolve(_ local: Int64, offsets: Offsets) -> Int64 {
        let before = offsets(local - 86_400)
        let after = offsets(local + 86_400)
        let candidates = Set([before, after]).map { local - Int64($0) }.filter { local == $0 + Int64(offsets($0)) }
        if let earliest = candidates.min() { return earliest }
        // In a gap the offset grows: local time jumps from below `local` to above it at one instant, found
        // by bisection between the instants `local` would be under each offset.
        var low = local - Int64(max(before, after))
        var high = local - Int64(min(before, after))
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + Int64(offsets(middle)) >= local { high = middle } else { low = middle }
        }
        return high
    }
}

/// A local date and time, with the arithmetic the search needs (proleptic Gregorian, no zone).
struct Civil: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (
            year, month, day, hour, minute, second
        )
    }

    /// The local time `seconds` after the epoch, read as UTC.
    init(_ seconds: Int64) {
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let rest = Int(seconds - Int64(days) * 86_400)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    /// Days since 1970-01-01 (Hinnant's days_from_civil).
    var days: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    var seconds: Int64 { Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) }
    /// 0 for Sunday.
    var weekday: Int { ((days % 7) + 11) % 7 }

    func adding(seconds delta: Int64) -> Civil { Civil(self.seconds + delta) }
    func adding(days delta: Int) -> Civil { Civil(seconds + Int64(delta) * 86_400) }

    static func daysIn(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
