import CorralProtocol

/// The scheduler's key layout in its `StateStore`, spelled here only.
public enum StoreKeys {
    public static let jobs = "jobs/"
    public static let tasks = "tasks/"
    public static let nodes = "nodes/"
    public static let schedules = "schedules/"

    public static func job(_ id: JobID) -> String { jobs + id.rawValue }
    public static func task(_ id: TaskID) -> String { tasks + "\(id.job.rawValue)/\(id.index)" }
    /// The prefix of every task key of a job (the trailing slash keeps job `a` from matching `ab`).
    public static func tasks(of job: JobID) -> String { tasks + "\(job.rawValue)/" }
    public static func schedule(_ id: JobID) -> String { schedules + id.rawValue }
    /// A task's checkpoint file in the `CheckpointStore`: `<job>.<index>`.
    public static func checkpoint(_ task: TaskID) -> String { "\(task.job.rawValue).\(task.index)" }
    public static func checkpoints(of job: JobID) -> String { "\(job.rawValue)." }
    public static func node(_ id: NodeID) -> String { nodes + id.rawValue }
}
