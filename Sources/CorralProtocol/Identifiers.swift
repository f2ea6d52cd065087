import CorralModel

/// A job: `j` + milliseconds since the epoch in base 36 + 6 random hex digits, so that ids sort by
/// submission time. Any valid name (`Names`, at most 63 characters) parses, as ids travel in paths.
public struct JobID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let rawValue: String

    /// The id `text` names, or nil when it is not a valid name.
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

    public var description: String { rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = JobID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a job id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A node, as its agent names it: 1-63 characters of `A-Z a-z 0-9 . _ -`.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let rawValue: String

    public static let rule = "must be 1-63 characters of A-Z a-z 0-9 . _ -"

    public init?(_ text: some StringProtocol) {
        guard Names.isValid(String(text), maxLength: 63) else { return nil }
        rawValue = String(text)
    }

    public var description: String { rawValue }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = NodeID(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" \(Self.rule)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
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
public struct AllocationID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var task: TaskID
    /// 1 for the first attempt.
    public var attempt: Int

    public init(task: TaskID, attempt: Int) {
        self.task = task
        self.attempt = attempt
    }

    /// The allocation `text` names, or nil when it is not `<job>.<index>.<attempt>` with a valid job id,
    /// an index of at least 0 and an attempt of at least 1, both in decimal without sign or leading zeros.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, let index = Int(parts[parts.count - 2]), index >= 0,
            let attempt = Int(parts[parts.count - 1]), attempt >= 1,
            String(index) == parts[parts.count - 2], String(attempt) == parts[parts.count - 1],
            let job = JobID(parts.dropLast(2).joined(separator: "."))
        else { return nil }
        self.init(task: TaskID(job: job, index: index), attempt: attempt)
    }

    public var description: String { "\(task.job).\(task.index).\(attempt)" }
    public static func < (a: AllocationID, b: AllocationID) -> Bool { (a.task, a.attempt) < (b.task, b.attempt) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = AllocationID(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not an allocation id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
