/// A cron expression as cron and its successors write it: 5 fields (minute hour day-of-month month
/// day-of-week) or 6 with seconds first; `*`, values, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`, lists
/// `a,b`; month and weekday names (`JAN`, `MON`); weekday 7 as Sunday; `?` as `*` in the day fields; and
/// the names `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`.
/// A day matches as in cron: when both day-of-month and day-of-week are restricted, either one will do.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    /// Bit n set: value n matches.
    let seconds: UInt64
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    /// Whether the day fields were `*` (or `?`): with one of them unrestricted, only the other decides.
    let anyDayOfMonth: Bool
    let anyDayOfWeek: Bool

    public var description: String { source }

    static let macros: [String: String] = [
        "@yearly": "0 0 0 1 1 *", "@annually": "0 0 0 1 1 *", "@monthly": "0 0 0 1 * *",
        "@weekly": "0 0 0 * * 0", "@daily": "0 0 0 * * *", "@midnight": "0 0 0 * * *", "@hourly": "0 0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; errors name `field` and the part of the expression at fault.
    public init(_ text: String, field: String = "cron") throws(ValueError) {
        source = text
        let trimmed = text.trimmingSpaces()
        let expanded = trimmed.hasPrefix("@") ? Self.macros[trimmed.lowercased()] : trimmed
        guard let expanded else {
            throw ValueError(
                field: field,
                message: "\(trimmed) is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly")
        }
        var parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 || parts.count == 6 else {
            throw ValueError(
                field: field,
                message: "has \(parts.count) fields: cron takes 5 (minute hour day month weekday) or 6 (seconds first)")
        }
        if parts.count == 5 { parts.insert("0", at: 0) }
        func parse(_ index: Int, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0)
            throws(ValueError) -> UInt64
        {
            try Self.field(parts[index], range, names: names, nameBase: nameBase, field: "\(field) \(name)")
        }
        seconds = try parse(0, "seconds", 0...59)
        minutes = try parse(1, "minutes", 0...59)
        hours = try parse(2, "hours", 0...23)
        // As in cron, a day field that starts with `*` (even `*/2`) counts as unrestricted.
        anyDayOfMonth = parts[3].hasPrefix("*") || parts[3] == "?"
        daysOfMonth = try parse(3, "day of month", 1...31)
        months = try parse(4, "month", 1...12, names: Self.monthNames, nameBase: 1)
        anyDayOfWeek = parts[5].hasPrefix("*") || parts[5] == "?"
        // 0-7 with 7 as Sunday again.
        let weekdays = try parse(5, "day of week", 0...7, names: Self.dayNames)
        daysOfWeek = (weekdays | (weekdays >> 7)) & 0x7f
        // Feb 29 comes within 8 years of any date: an expression with no fire in 9 never fires.
        if nextCivil(from: Civil(2000, 1, 1), before: 2009) == nil {
            throw ValueError(field: field, message: "never fires (no such day in any year)")
        }
    }

    /// One field as a bit set over `range`.
    static func field(_ text: String, _ range: ClosedRange<Int>, names: [String], nameBase: Int, field: String)
        throws(ValueError) -> UInt64
    {
        func value(_ part: Substring) throws(ValueError) -> Int {
            if let number = Int(part), range.contains(number) { return number }
            if let index = names.firstIndex(of: part.uppercased()) { return index + nameBase }
            throw ValueError(
                field: field, message: "\(part) is not a value within \(range.lowerBound)-\(range.upperBound)")
        }
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2, !stepParts[0].isEmpty else {
                throw ValueError(field: field, message: "\"\(item)\" is not a value, range or step")
            }
            var step = 1
            if stepParts.count == 2 {
                guard let parsed = Int(stepParts[1]), parsed >= 1, parsed <= range.upperBound + 1 else {
                    throw ValueError(field: field, message: "\"\(stepParts[1])\" is not a step (1 or more)")
                }
                step = parsed
            }
            let base = stepParts[0]
            var low: Int
            var high: Int
            if base == "*" || base == "?" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(base[..<dash])
                high = try value(base[base.index(after: dash)...])
                guard low <= high else {
                    throw ValueError(field: field, message: "the range \(base) runs backwards")
                }
            } else {
                low = try value(base)
                // `a/n` runs from a to the end of the field, as in cron.
                high = stepParts.count == 2 ? range.upperBound : low
            }
            for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        }
        return bits
    }

    func matches(second: Int, minute: Int, hour: Int) -> Bool {
        seconds & (1 << UInt64(second)) != 0 && minutes & (1 << UInt64(minute)) != 0
            && hours & (1 << UInt64(hour)) != 0
    }

    /// Whether the day matches: cron's rule, either day field when both are restricted.
    func matchesDay(day: Int, weekday: Int) -> Bool {
        let byMonthDay = daysOfMonth & (1 << UInt64(day)) != 0
        let byWeekday = daysOfWeek & (1 << UInt64(weekday)) != 0
        switch (anyDayOfMonth, anyDayOfWeek) {
        case (true, true): return true
        case (true, false): return byWeekday
        case (false, true): return byMonthDay
        case (false, false): return byMonthDay || byWeekday
        }
    }
}
