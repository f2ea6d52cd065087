/// An edge of a job graph: this job waits for `job` (an id, or the name of a job of the same tenant or
/// of the same workflow) to end, and runs only when it ended as `on` asks.
public struct Dependency: Sendable, Equatable, Hashable {
    public enum Condition: String, Sendable, Codable, CaseIterable {
        /// Every task of the upstream completed.
        case success
        /// The upstream ended otherwise: a task failed or was lost for good, or it was cancelled.
        case failure
        /// The upstream ended, however (skipped included).
        case any
    }

    public var job: String
    public var on: Condition

    public init(job: String, on: Condition = .success) {
        self.job = job
        self.on = on
    }

    /// Upstreams one job may name.
    public static let limit = 32

    var json: JSONValue { .object(["job": .string(job), "on": .string(on.rawValue)]) }
}

extension FieldReader {
    static let dependencyFields: Set<String> = ["job", "on"]

    mutating func dependencies(_ value: JSONValue?) -> [Dependency] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else {
            fail("dependsOn", "must be an array of {\"job\", \"on\"}, not \(value.shortDescription)")
            return []
        }
        if items.count > Dependency.limit {
            fail("dependsOn", "\(items.count) upstream jobs: at most \(Dependency.limit)")
        }
        var result: [Dependency] = []
        for (index, item) in items.prefix(Dependency.limit).enumerated() {
            let path = "dependsOn[\(index)]"
            guard let fields = object(item, path, known: Self.dependencyFields) else { continue }
            let job = name(fields["job"], "\(path).job", limit: JobSpec.nameLimit, required: true)
            let on = choice(fields["on"], "\(path).on", default: Dependency.Condition.success)
            guard let job else { continue }
            if result.contains(where: { $0.job == job }) {
                fail("\(path).job", "\(job) is named twice")
                continue
            }
            result.append(Dependency(job: job, on: on))
        }
        return result
    }
}
