/// Reading a JobSpec from JSON: human units accepted ("512Mi", "1.5", "500m", "30s"), every problem
/// reported at once, each with its JSON path (`resources.memory: "12XB" is not a size`).
extension JobSpec {
    public static let nameLimit = 128

    /// Parses and validates a job submission. Throws every problem found, not just the first.
    public static func parse(_ value: JSONValue) throws(JobSpecError) -> JobSpec {
        var reader = FieldReader()
        let spec = reader.job(value)
        guard reader.problems.isEmpty, let spec else { throw JobSpecError(problems: reader.problems) }
        return spec
    }
}

/// All the problems of one submission.
public struct JobSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [ValueError]

    public init(problems: [ValueError]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// Walks a JSON object field by field, recording problems with their paths.
struct FieldReader {
    var problems: [ValueError] = []

    mutating func fail(_ path: String, _ message: String) { problems.append(ValueError(field: path, message: message)) }

    /// The object's fields, after reporting any key not in `known`.
    mutating func object(_ value: JSONValue?, _ path: String, known: Set<String>) -> [String: JSONValue]? {
        guard let value else { return nil }
        guard case .object(let fields) = value else {
            fail(path, "must be an object, not \(value.shortDescription)")
            return nil
        }
        for key in fields.keys.sorted() where !known.contains(key) {
            fail(
                path.isEmpty ? key : "\(path).\(key)",
                "unknown field (expected one of: \(known.sorted().joined(separator: ", ")))")
        }
        return fields
    }

    mutating func string(_ value: JSONValue?, _ path: String, required: Bool = false) -> String? {
        switch value {
        case nil, .null?:
            if required { fail(path, "is required") }
            return nil
        case .string(let text)?: return text
        case let other?:
            fail(path, "must be a string, not \(other.shortDescription)")
            return nil
        }
    }

    mutating func bool(_ value: JSONValue?, _ path: String) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?:
            fail(path, "must be true or false, not \(other.shortDescription)")
            return nil
        }
    }

    mutating func integer(_ value: JSONValue?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let value, value != .null else { return nil }
        let number: Double?
        switch value {
        case .number(let n): number = n
        case .string(let s): number = Double(s)
        default: number = nil
        }
        guard let number, number == number.rounded(), let int = Int(exactly: number), range.contains(int) else {
            fail(
                path, "\(value.shortDescription) is not a whole number within \(range.lowerBound)...\(range.upperBound)"
            )
            return nil
        }
        return int
    }

    /// A number or a string with units, parsed by `parse`.
    mutating func quantity<T>(_ value: JSONValue?, _ path: String, _ parse: (String) throws(ValueError) -> T?) -> T? {
        guard let value, value != .null else { return nil }
        let text: String
        switch value {
        case .number(let n): text = n == n.rounded() && abs(n) < 1e15 ? "\(Int64(n))" : "\(n)"
        case .string(let s): text = s
        default:
            fail(path, "must be a number or a string with units, not \(value.shortDescription)")
            return nil
        }
        do {
            guard let parsed = try parse(text) else {
                fail(path, "\(value.shortDescription) is not a limit a task can request")
                return nil
            }
            return parsed
        } catch {
            problems.append(ValueError(field: path, message: error.message))
            return nil
        }
    }

    mutating func strings(_ value: JSONValue?, _ path: String) -> [String]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value else {
            fail(path, "must be an array of strings, not \(value.shortDescription)")
            return nil
        }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard let s = string(item, "\(path)[\(index)]", required: true) else { continue }
            // A process's arguments and environment are C strings: a NUL would cut them short or fail the
            // launch on the agent, long after the job was accepted.
            if s.utf8.contains(0) { fail("\(path)[\(index)]", "contains a NUL byte") } else { result.append(s) }
        }
        return result
    }

    mutating func stringMap(_ value: JSONValue?, _ path: String) -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard case .object(let fields) = value else {
            fail(path, "must be an object of strings, not \(value.shortDescription)")
            return [:]
        }
        var result: [String: String] = [:]
        for (key, item) in fields {
            if key.isEmpty || key.contains("=") || key.utf8.contains(0) {
                fail("\(path).\(key)", "is not a valid name (empty, or contains = or NUL)")
            }
            guard let s = string(item, "\(path).\(key)", required: true) else { continue }
            if s.utf8.contains(0) { fail("\(path).\(key)", "contains a NUL byte") } else { result[key] = s }
        }
        return result
    }

    /// A name by `Names.isValid`.
    mutating func name(_ value: JSONValue?, _ path: String, limit: Int, required: Bool) -> String? {
        guard let text = string(value, path, required: required) else { return nil }
        let ok = Names.isValid(text, maxLength: limit)
        if !ok { fail(path, "\"\(text)\" must be 1-\(limit) characters of A-Z a-z 0-9 . _ -") }
        return ok ? text : nil
    }
}
