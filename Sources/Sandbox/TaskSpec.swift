import Cgroups
import CorralModel

/// Network isolation of a task.
public enum NetworkMode: String, Sendable, Codable, CaseIterable {
    /// A new, empty network namespace with only loopback (up).
    case none
    /// The host's network namespace.
    case host
}

/// A resource limit for the task process (setrlimit), e.g. RLIMIT_NOFILE.
public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64

    public init(resource: Int32, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }
}

/// A host directory bound into the task (a volume): nosuid and nodev, read-only when asked.
public struct BindMount: Sendable, Equatable {
    public var source: String
    /// Absolute path inside the task.
    public var target: String
    public var readOnly: Bool
    /// One regular file rather than a directory, always read-only (the task's /etc/resolv.conf).
    public var file: Bool

    public init(source: String, target: String, readOnly: Bool, file: Bool = false) {
        self.source = source
        self.target = target
        self.readOnly = readOnly || file
        self.file = file
    }

    /// The C side's kind (csandbox.h `mounts`).
    var kind: String { file ? "file" : readOnly ? "ro" : "rw" }
}

/// Everything needed to run one task in a sandbox.
public struct TaskSpec: Sendable {
    /// Task id: also the cgroup name and the hostname inside the sandbox. `[A-Za-z0-9._-]`, 1-63 chars.
    public var id: String
    public var argv: [String]
    /// Added to (and overriding) the sandbox's base environment (PATH, HOME, USER, HOSTNAME).
    public var environment: [String: String]
    /// Host directory bound at `/work`. nil: Corral creates one on tmpfs and removes it afterwards.
    public var workDirectory: String?
    /// Image name (a rootfs under the images directory) to pivot into; nil runs on the host's root.
    public var image: String?
    /// An operator-chosen account (name or numeric uid) to run as; never root. nil: a uid of the task's
    /// own from the sandbox's range.
    public var user: String?
    /// Supplementary groups, e.g. the tenant's group that shared volumes are granted to.
    public var groups: [UInt32]
    public var limits: CgroupLimits
    public var rlimits: [ResourceLimit]
    public var timeout: Duration?
    /// Time between SIGTERM and the cgroup kill when stopping. nil: the sandbox's default.
    public var killGrace: Duration?
    public var network: NetworkMode
    /// The task's stdio: descriptors owned by the caller (nil: /dev/null).
    public var stdin: Int32?
    public var stdout: Int32?
    public var stderr: Int32?
    /// File PID 1 writes the task's exit status to (`exit N` / `signal N`), so a restarted agent can read
    /// it. nil: a pipe, read when the task ends.
    public var statusFile: String?
    /// Size of the private /tmp (bytes); nil = the kernel default (half of RAM, charged to the task).
    public var tmpSize: UInt64?
    /// Called with PID 1's host pid while it waits in its new namespaces, before the task is forked: e.g. to
    /// move a network interface into the task's network namespace. A throw abandons the launch.
    public var prepare: (@Sendable (Int32) async throws -> Void)?
    /// Host directories bound into the task after its work directory.
    public var mounts: [BindMount] = []
    /// Leave the work directory Corral made when the task ends (the caller removes it with
    /// `WorkDirectory.discard`).
    public var keepWorkDirectory = false
    /// Directories made in the new work directory before the task starts, owned by the task's user
    /// (`checkpoint` for `CORRAL_CHECKPOINT_DIR`).
    public var workSubdirectories: [String] = []
    /// Bytes the work directory Corral makes may hold: it is then a tmpfs of that size of its own.
    public var workSize: UInt64?

    public init(
        id: String, argv: [String], environment: [String: String] = [:], workDirectory: String? = nil,
        image: String? = nil, user: String? = nil, groups: [UInt32] = [], limits: CgroupLimits = CgroupLimits(),
        rlimits: [ResourceLimit] = [],
        timeout: Duration? = nil, killGrace: Duration? = nil, network: NetworkMode = .none, stdin: Int32? = nil,
        stdout: Int32? = nil, stderr: Int32? = nil, statusFile: String? = nil, tmpSize: UInt64? = nil
    ) {
        self.id = id
        self.argv = argv
        self.environment = environment
        self.workDirectory = workDirectory
        self.image = image
        self.user = user
        self.groups = groups
        self.limits = limits
        self.rlimits = rlimits
        self.timeout = timeout
        self.killGrace = killGrace
        self.network = network
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.statusFile = statusFile
        self.tmpSize = tmpSize
    }

    /// Every problem with the spec, each naming its field.
    public func validate() -> [ValueError] {
        var problems: [ValueError] = []
        if !Names.isValid(id, maxLength: 63) {
            problems.append(ValueError(field: "id", message: "\"\(id)\" must be 1-63 characters of A-Z a-z 0-9 . _ -"))
        }
        if argv.isEmpty || argv[0].isEmpty { problems.append(ValueError(field: "argv", message: "no command given")) }
        if argv.contains(where: { $0.utf8.contains(0) }) {
            problems.append(ValueError(field: "argv", message: "contains a NUL byte"))
        }
        for key in environment.keys where key.isEmpty || key.contains("=") || key.utf8.contains(0) {
            problems.append(ValueError(field: "environment", message: "\"\(key)\" is not a variable name"))
        }
        if let image, ImageReference(image) == nil {
            problems.append(ValueError(field: "image", message: "\"\(image)\" \(ImageReference.rule)"))
        }
        for mount in mounts {
            if !mount.source.hasPrefix("/") || mount.source.utf8.contains(0) {
                problems.append(ValueError(field: "mounts", message: "\"\(mount.source)\" is not an absolute path"))
            }
            if let problem = VolumeMount.problem(target: mount.target) {
                problems.append(ValueError(field: "mounts", message: problem))
            }
        }
        if groups.contains(0) { problems.append(ValueError(field: "groups", message: "0 is root's group")) }
        if let timeout, timeout <= .zero { problems.append(ValueError(field: "timeout", message: "must be positive")) }
        if let cpu = limits.cpuCores, !(cpu > 0) {
            problems.append(ValueError(field: "limits.cpu", message: "must be positive"))
        }
        if let weight = limits.cpuWeight, !(1...10_000).contains(weight) {
            problems.append(ValueError(field: "limits.cpuWeight", message: "must be within 1...10000"))
        }
        if let memory = limits.memoryMax, memory < 1 << 20 {
            problems.append(ValueError(field: "limits.memory", message: "\(memory) bytes is below the 1 MiB minimum"))
        }
        if let pids = limits.pidsMax, pids < 2 {
            problems.append(
                ValueError(field: "limits.pids", message: "must be at least 2 (the sandbox's PID 1 counts)"))
        }
        return problems
    }
}
