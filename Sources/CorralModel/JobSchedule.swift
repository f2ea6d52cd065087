/// A job that is a schedule: it runs nothing itself; at each time its cron expression names (in its IANA
/// time zone) the scheduler creates a child job, `<name>-<unix time>`, with the same spec and no schedule.
public struct JobSchedule: Sendable, Equatable {
    /// What a fire does while an earlier child still runs.
    public enum Overlap: String, Sendable, Codable, CaseIterable {
        /// Start the new child anyway.
        case allow
        /// Skip the fire (counted).
        case forbid
        /// Cancel the running child, then start the new one.
        case replace
    }

    /// What happens to fire times that passed while no scheduler was running (or leading).
    public enum CatchUp: String, Sendable, Codable, CaseIterable {
        /// They are skipped (counted as missed).
        case none
        /// The latest of them runs once, if it is within `startingDeadline`.
        case one
    }

    public var cron: CronExpression
    /// An IANA zone name (`Europe/Berlin`, `UTC`); the scheduler checks it against its zone database.
    public var timeZone: String
    public var overlap: Overlap
    public var catchUp: CatchUp
    /// A fire later than this is not started at all (counted as missed); nil: no limit.
    public var startingDeadline: Duration?
    /// How many ended children are kept to be listed (`corral job runs`); older ones are removed.
    public var keepRuns: Int

    public init(
        cron: CronExpression, timeZone: String = "UTC", overlap: Overlap = .allow, catchUp: CatchUp = .none,
        startingDeadline: Duration? = nil, keepRuns: Int = 20
    ) {
        self.cron = cron
        self.timeZone = timeZone
        self.overlap = overlap
        self.catchUp = catchUp
        self.startingDeadline = startingDeadline
        self.keepRuns = keepRuns
    }

    /// The longest name a schedule may have: its children's names add `-` and ten digits of Unix time.
    public static let nameLimit = JobSpec.nameLimit - 11

    /// A child's name: the schedule's, then the fire time.
    public static func childName(_ schedule: String, fire: Int64) -> String { "\(schedule)-\(fire)" }

    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "cron": .string(cron.source), "timeZone": .string(timeZone), "overlap": .string(overlap.rawValue),
            "catchUp": .string(catchUp.rawValue), "keepRuns": .number(Double(keepRuns)),
        ]
        if let startingDeadline { fields["startingDeadline"] = .string("\(startingDeadline.wholeMilliseconds)ms") }
        return .object(fields)
    }
}

extension FieldReader {
    static let scheduleFields: Set<String> = [
        "cron", "timeZone", "overlap", "catchUp", "startingDeadline", "keepRuns",
    ]

    mutating func schedule(_ value: JSONValue?) -> JobSchedule? {
        guard let value, value != .null, let fields = object(value, "schedule", known: Self.scheduleFields) else {
            return nil
        }
        var cron: CronExpression?
        if let text = string(fields["cron"], "schedule.cron", required: true) {
            do { cron = try CronExpression(text, field: "schedule.cron") } catch { problems.append(error) }
        }
        let zone = string(fields["timeZone"], "schedule.timeZone") ?? "UTC"
        if !Self.isZoneName(zone) {
            fail("schedule.timeZone", "\"\(zone)\" is not an IANA time zone name such as Europe/Berlin or UTC")
        }
        let overlap = choice(fields["overlap"], "schedule.overlap", default: JobSchedule.Overlap.allow)
        let catchUp = choice(fields["catchUp"], "schedule.catchUp", default: JobSchedule.CatchUp.none)
        let deadline = duration(fields["startingDeadline"], "schedule.startingDeadline")
        let keep = integer(fields["keepRuns"], "schedule.keepRuns", range: 1...1000) ?? 20
        guard let cron else { return nil }
        return JobSchedule(
            cron: cron, timeZone: zone, overlap: overlap, catchUp: catchUp, startingDeadline: deadline, keepRuns: keep)
    }

    /// One of an enumeration's raw values, or `fallback` when absent.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ value: JSONValue?, _ path: String, default fallback: T)
        -> T where T.RawValue == String
    {
        guard let text = string(value, path) else { return fallback }
        guard let parsed = T(rawValue: text) else {
            fail(path, "\"\(text)\" is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return fallback
        }
        return parsed
    }

    /// The shape of a zone database name (`Area/Location`, `UTC`, `Etc/GMT+5`): whether the zone exists is
    /// the scheduler's to say, which has the database.
    static func isZoneName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && !text.hasPrefix("/") && !text.contains("..")
            && text.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2F || byte == 0x5F || byte == 0x2D || byte == 0x2B
            }
    }
}
