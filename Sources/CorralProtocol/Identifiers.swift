import CorralModel

/// An identifier with one text form: `description` writes it, `init?` is its one parser, and JSON
/// carries it as that text.
public protocol TextIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    init?(_ text: some StringProtocol)
    /// What a text that does not parse is told.
    static var rule: String { get }
}

extension TextIdentifier {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = Self(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" \(Self.rule)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An identifier that is a name under `Names`' rule (1-63 characters of `A-Z a-z 0-9 . _ -`, not `.`
/// or `..`, so that it is safe in paths).
public protocol NameIdentifier: TextIdentifier {
    var rawValue: String { get }
}

extension NameIdentifier {
    public static var rule: String { "must be 1-63 characters of A-Z a-z 0-9 . _ -" }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A job: `j` + milliseconds since the epoch in base 36 + 6 random hex digits, so that ids sort by
/// submission time. Any valid name parses, as ids travel in paths.
public struct JobID: NameIdentifier {
    public let rawValue: String

    public init?(_ text: some StringProtocol) {
        guard Names.isValid(String(text), maxLength: 63) else { return nil }
        rawValue = String(text)
    }

    /// A new, time-ordered id.
    public static func generate(millisecondsSinceEpoch ms: UInt64) -> JobID {
        let random = String(UInt32.random(in: 0..<(1 << 24)), radix: 16)
        return JobID(unchecked: "j" + String(ms, radix: 36) + String(repeating: "0", count: 6 - random.count) + random)
    }

    private init(unchecked: String) { rawValue = unchecked }
}

/// A node, as its agent names it.
public struct NodeID: NameIdentifier {
    public let rawValue: String

    public init?(_ text: some StringProtocol) {
        guard Names.isValid(String(text), maxLength: 63) else { return nil }
        rawValue = String(text)
    }
}

/// A task: its job and its index within the job.
public struct TaskID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var job: JobID
    public var index: Int

    public init(job: JobID, index: Int) {
        self.job = job
        self.index = index
    }

    public static func < (a: TaskID, b: TaskID) -> Bool { (a.job, a.index) < (b.job, b.index) }
    public var description: String { "\(job)/\(index)" }
}

/// One attempt of one task on one node: `<job>.<index>.<attempt>`, the name of its cgroup, work
/// directory, log directory and record on the node.
public struct AllocationID: TextIdentifier {
    public let task: TaskID
    /// 1 for the first attempt.
    public let attempt: Int
    /// The text form, made once: agents send hundreds of these in every heartbeat.
    public let description: String

    public init(task: TaskID, attempt: Int) {
        self.task = task
        self.attempt = attempt
        description = "\(task.job).\(task.index).\(attempt)"
    }

    /// The allocation `text` names, or nil when it is not `<job>.<index>.<attempt>` with a valid job id,
    /// an index of at least 0 and an attempt of at least 1, both in decimal without sign or leading zeros.
    public init?(_ text: some StringProtocol) {
        let text = Substring(text)
        guard let second = text.lastIndex(of: "."), let first = text[..<second].lastIndex(of: "."),
            let index = Self.number(text[text.index(after: first)..<second]),
            let attempt = Self.number(text[text.index(after: second)...]), attempt >= 1,
            let job = JobID(text[..<first])
        else { return nil }
        self.task = TaskID(job: job, index: index)
        self.attempt = attempt
        description = String(text)
    }

    /// A decimal number as `description` writes it: digits only, no leading zero but for 0 itself.
    private static func number(_ digits: Substring) -> Int? {
        guard let lead = digits.utf8.first, digits.utf8.count <= 18,
            digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), lead != 0x30 || digits.utf8.count == 1
        else { return nil }
        return Int(digits)
    }

    public static let rule = "is not an allocation: <job>.<index>.<attempt>, like j1.0.1"
    public static func < (a: AllocationID, b: AllocationID) -> Bool { (a.task, a.attempt) < (b.task, b.attempt) }
    // The text determines the task and attempt: equality and hashing need only it.
    public static func == (a: AllocationID, b: AllocationID) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
