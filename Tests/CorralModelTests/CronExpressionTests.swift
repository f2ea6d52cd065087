import CorralModel
import Foundation
import Testing

/// Cron expressions against fixtures: fields, names, the day rule, month ends, Feb 29, and daylight saving
/// in a named zone (times computed independently, with Python's zoneinfo).
@Suite struct CronExpressionTests {
    static func zone(_ name: String) -> CronExpression.Offsets {
        let zone = TimeZone(identifier: name)!
        return { zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval($0))) }
    }
    static let utc: CronExpression.Offsets = { _ in 0 }
    static let berlin = zone("Europe/Berlin")

    /// The next `count` fire times after `start`.
    static func fires(_ text: String, after start: Int64, _ count: Int, _ offsets: CronExpression.Offsets = utc)
        throws -> [Int64]
    {
        let cron = try CronExpression(text)
        var times: [Int64] = []
        var at = start
        for _ in 0..<count {
            guard let next = cron.next(after: at, offsets: offsets) else { break }
            times.append(next)
            at = next
        }
        return times
    }

    @Test func fieldsRangesStepsListsAndTheSecondsField() throws {
        let start: Int64 = 1_796_378_405  // 2026-12-04 10:00:05 UTC
        #expect(try Self.fires("*/20 * * * * *", after: start, 3) == [start + 15, start + 35, start + 55])
        #expect(try Self.fires("*/15 * * * *", after: start, 2) == [start - 5 + 900, start - 5 + 1800])
        #expect(try Self.fires("0 10-11/1 * * *", after: start, 2) == [start - 5 + 3600, start - 5 + 86_400])
        #expect(try Self.fires("5,10 0 10 * * *", after: start, 2) == [start + 5, start - 5 + 86_400 + 5])
        #expect(try Self.fires("@weekly", after: start, 1) == [1_796_515_200], "Sunday 6 December, midnight")
        #expect(try Self.fires("0 0 * * sun", after: start, 1) == [1_796_515_200])
        #expect(try Self.fires("0 0 * * 7", after: start, 1) == [1_796_515_200], "7 is Sunday too")
        #expect(try Self.fires("@hourly", after: start, 1) == [start - 5 + 3600])
        #expect(try Self.fires("0 0 1 jan-mar/2 *", after: start, 2) == [1_798_761_600, 1_803_859_200])
    }

    @Test func feb29AndMonthEnds() throws {
        // From 1 March 2025 the next 29 February is in 2028.
        #expect(try Self.fires("0 0 12 29 2 *", after: 1_740_787_200, 1) == [1_835_438_400])
        // The 31st skips the months without one: after 1 April 2026 comes 31 May.
        #expect(try Self.fires("0 0 31 * *", after: 1_775_001_600, 1) == [1_780_185_600])
    }

    @Test func bothDayFieldsRestrictedMeansEitherAsInCron() throws {
        // 1 June 2026 is a Monday: the 1st of the month or any Monday.
        let fires = try Self.fires("0 0 1 * MON", after: 1_780_272_000, 5)
        #expect(fires == [1_780_876_800, 1_781_481_600, 1_782_086_400, 1_782_691_200, 1_782_864_000])
        // One of them `*` (even `*/2`): only the other decides.
        #expect(try Self.fires("0 0 1 * *", after: 1_780_272_000, 1) == [1_782_864_000])
        #expect(try Self.fires("0 0 */2 * MON", after: 1_780_272_000, 1) == [1_780_876_800])
    }

    @Test func aLocalTimeSkippedBySpringForwardFiresOnceWhenTheGapEnds() throws {
        // Europe/Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let daily = try Self.fires("0 30 2 * * *", after: 1_774_661_400, 2, Self.berlin)
        #expect(daily == [1_774_746_000, 1_774_830_600], "02:30 fires at 03:00 CEST, then 02:30 CEST the next day")
        // Every 15 minutes: 02:00, 02:15, 02:30, 02:45 and 03:00 are one fire at 03:00 CEST, then 03:15.
        let quarter = try Self.fires("0 */15 * * * *", after: 1_774_745_100 - 900, 3, Self.berlin)
        #expect(quarter == [1_774_745_100, 1_774_746_000, 1_774_746_900])
    }

    @Test func aLocalTimeRepeatedByFallBackFiresOnce() throws {
        // Europe/Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
        let daily = try Self.fires("0 30 2 * * *", after: 1_792_801_800, 2, Self.berlin)
        #expect(daily == [1_792_888_200, 1_792_978_200], "the first 02:30 (CEST) only, then 02:30 CET next day")
        // Hourly: 02:00 CEST (00:00 UTC), then 03:00 CET (02:00 UTC); the second 02:00 is not a new hour.
        let hourly = try Self.fires("@hourly", after: 1_792_886_400 - 1, 2, Self.berlin)
        #expect(hourly == [1_792_886_400, 1_792_893_600])
        // Started during the repeated hour, it does not fire for the hour's second pass.
        #expect(try Self.fires("0 30 2 * * *", after: 1_792_888_200 + 3600 - 600, 1, Self.berlin) == [1_792_978_200])
    }

    @Test func badExpressionsNameTheFieldAndThePart() {
        func error(_ text: String) -> String {
            do {
                _ = try CronExpression(text, field: "schedule.cron")
                return "none"
            } catch { return error.description }
        }
        #expect(error("61 * * * *") == "schedule.cron minutes: 61 is not a value within 0-59")
        #expect(
            error("* * *")
                == "schedule.cron: has 3 fields: cron takes 5 (minute hour day month weekday) or 6 (seconds first)")
        #expect(error("@often").hasPrefix("schedule.cron: @often is not one of @yearly"))
        #expect(error("0 0 5-1 * *") == "schedule.cron day of month: the range 5-1 runs backwards")
        #expect(error("*/0 * * * *") == "schedule.cron minutes: \"0\" is not a step (1 or more)")
        #expect(error("0 0 * FOO *") == "schedule.cron month: FOO is not a value within 1-12")
        #expect(error("0 0 30 2 *") == "schedule.cron: never fires (no such day in any year)")
        #expect(error("0 0 1,,2 * *").contains("is not a value, range or step"))
    }
}
