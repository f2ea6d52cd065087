/// Several jobs submitted together, atomically, with edges between them: a `dependsOn` entry naming a job
/// of the workflow points at it; any other names a job already submitted.
///
/// With a `schedule` (and a `name`), the workflow is a schedule: each fire creates every job of it, named
/// `<job>-<unix time>`, with its edges, in one transaction.
public struct Workflow: Sendable, Equatable {
    public var jobs: [JobSpec]
    public var name: String?
    public var schedule: JobSchedule?

    public init(jobs: [JobSpec], name: String? = nil, schedule: JobSchedule? = nil) {
        self.jobs = jobs
        self.name = name
        self.schedule = schedule
    }

    /// Jobs one workflow may hold (all are stored in one transaction).
    public static let limit = 100

    /// Parses and validates a workflow: every job as a job is checked, then names must be unique, the
    /// tenant one, and the edges within the workflow free of cycles. Problems name the job and the edge.
    public static func parse(_ value: JSONValue) throws(JobSpecError) -> Workflow {
        var reader = FieldReader()
        guard let fields = reader.object(value, "", known: ["jobs", "name", "schedule"]), reader.problems.isEmpty else {
            throw JobSpecError(problems: reader.problems)
        }
        let schedule = reader.schedule(fields["schedule"])
        let name = reader.name(
            fields["name"], "name", limit: JobSchedule.nameLimit, required: fields["schedule"] != nil)
        guard reader.problems.isEmpty else { throw JobSpecError(problems: reader.problems) }
        guard case .array(let items)? = fields["jobs"], !items.isEmpty else {
            throw JobSpecError(problems: [ValueError(field: "jobs", message: "must be a non-empty array of job specs")])
        }
        guard items.count <= limit else {
            throw JobSpecError(problems: [
                ValueError(field: "jobs", message: "\(items.count) jobs: a workflow holds at most \(limit)")
            ])
        }
        var jobs: [JobSpec] = []
        var problems: [ValueError] = []
        for (index, item) in items.enumerated() {
            do { jobs.append(try JobSpec.parse(item)) } catch {
                problems += error.problems.map { ValueError(field: "jobs[\(index)].\($0.field)", message: $0.message) }
            }
        }
        guard problems.isEmpty else { throw JobSpecError(problems: problems) }
        var seen: [String: Int] = [:]
        for (index, job) in jobs.enumerated() {
            if let first = seen[job.name] {
                problems.append(
                    ValueError(field: "jobs[\(index)].name", message: "\(job.name) is also the name of jobs[\(first)]"))
            }
            seen[job.name] = seen[job.name] ?? index
            if job.tenant != jobs[0].tenant {
                problems.append(
                    ValueError(
                        field: "jobs[\(index)].tenant", message: "\(job.tenant): every job of a workflow has one tenant"
                    ))
            }
            if job.schedule != nil {
                problems.append(
                    ValueError(
                        field: "jobs[\(index)].schedule", message: "a job of a workflow has no schedule of its own"))
            }
            if schedule != nil { problems += scheduledProblems(job, index: index, among: jobs) }
        }
        if let cycle = Workflow(jobs: jobs).cycle() { problems.append(cycle) }
        guard problems.isEmpty else { throw JobSpecError(problems: problems) }
        return Workflow(jobs: jobs, name: name, schedule: schedule)
    }

    /// What a job of a scheduled workflow may not have: a name too long for its runs' names, an edge
    /// leaving the workflow.
    static func scheduledProblems(_ job: JobSpec, index: Int, among jobs: [JobSpec]) -> [ValueError] {
        var problems: [ValueError] = []
        if job.name.utf8.count > JobSchedule.nameLimit {
            problems.append(
                ValueError(
                    field: "jobs[\(index)].name",
                    message: "at most \(JobSchedule.nameLimit) characters in a scheduled workflow"))
        }
        for (edge, dependency) in job.dependsOn.enumerated() where !jobs.contains(where: { $0.name == dependency.job })
        {
            problems.append(
                ValueError(
                    field: "jobs[\(index)].dependsOn[\(edge)].job",
                    message: "\(dependency.job) is not a job of this workflow: a scheduled workflow's edges stay in it")
            )
        }
        return problems
    }

    /// A cycle among the workflow's own edges, as a problem naming the edge that closes it.
    func cycle() -> ValueError? {
        let index = Dictionary(jobs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        // 0: not visited, 1: on the current path, 2: done.
        var mark = Array(repeating: 0, count: jobs.count)
        var path: [Int] = []
        func visit(_ node: Int) -> ValueError? {
            mark[node] = 1
            path.append(node)
            for (edge, dependency) in jobs[node].dependsOn.enumerated() {
                guard let upstream = index[dependency.job] else { continue }
                if mark[upstream] == 1 {
                    let loop = path[path.firstIndex(of: upstream)!...].map { jobs[$0].name } + [jobs[upstream].name]
                    return ValueError(
                        field: "jobs[\(node)].dependsOn[\(edge)]",
                        message: "\(dependency.job) closes a cycle (each waits for the next): "
                            + loop.joined(separator: " -> "))
                }
                if mark[upstream] == 0, let found = visit(upstream) { return found }
            }
            path.removeLast()
            mark[node] = 2
            return nil
        }
        for node in jobs.indices where mark[node] == 0 { if let found = visit(node) { return found } }
        return nil
    }
}
