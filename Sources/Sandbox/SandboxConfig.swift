import CSandbox
import Cgroups
import SystemSupport

/// Where a sandbox puts things and what it defaults to.
public struct SandboxConfig: Sendable {
    /// Parent of task cgroups, relative to each hierarchy's root (`corral.slice`).
    public var cgroupParent: String
    /// Directory on tmpfs where per-task work directories are created.
    public var workRoot: String
    /// Directory holding images as `NAME/rootfs`.
    public var imagesDirectory: String
    /// Path inside the sandbox where the work directory appears.
    public var workMount: String
    /// The uids (each also the task's gid) handed to tasks that name no user: one per running task.
    public var identities: IdentityRange
    /// Host directories (and top-level symlinks such as /bin -> usr/bin) a task without an image sees,
    /// read-only, in a root of its own.
    public var rootPaths: [String]
    /// Runs every task under the default seccomp filter (CSandbox/seccomp.c). Only an operator turns it off
    /// (`corral exec --seccomp unconfined`); a job cannot.
    public var seccomp: Bool
    /// The isolation steps besides seccomp; always all of them, except in `corral bench launch`, which turns
    /// one off at a time to measure what it costs. Not exposed to operators or jobs.
    public var hardening: Hardening = .all
    /// Time between SIGTERM and the cgroup kill.
    public var killGrace: Duration
    /// Clone sandboxes from a small helper process (see CSandbox/spawner.c) rather than from this one,
    /// whose size would otherwise add to every launch.
    public var useSpawner: Bool

    /// What a task without an image sees of the host: programs, libraries and /etc; merged-/usr hosts have
    /// symlinks for /bin, /sbin and /lib*, which the task gets as the same symlinks. Paths missing here
    /// are skipped.
    public static let defaultRootPaths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]

    public init(
        cgroupParent: String? = nil, workRoot: String? = nil, imagesDirectory: String = "/var/lib/corral/images",
        workMount: String = "/work", identities: IdentityRange = .default, rootPaths: [String] = defaultRootPaths,
        seccomp: Bool = true, killGrace: Duration = .seconds(5), useSpawner: Bool = true
    ) {
        self.cgroupParent = cgroupParent ?? Self.defaultCgroupParent()
        self.workRoot = workRoot ?? Self.defaultWorkRoot()
        self.imagesDirectory = imagesDirectory
        self.workMount = workMount
        self.identities = identities
        self.rootPaths = rootPaths
        self.seccomp = seccomp
        self.killGrace = killGrace
        self.useSpawner = useSpawner
    }

    public struct Hardening: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// A root of the task's own with masked /proc and /sys paths (off: the host's root, a private /tmp
        /// and /proc only, as before issue 19).
        public static let ownRoot = Hardening(rawValue: 1)
        /// The device allowlist on the task's cgroup.
        public static let deviceAllowlist = Hardening(rawValue: 2)
        public static let all: Hardening = [.ownRoot, .deviceAllowlist]
    }

    /// The directory holding the work root and Corral's other per-host state (`/run/corral`): the uid
    /// leases (`task-ids`) and the mount point of assembled task roots (`task-root`).
    public var runtimeDirectory: String {
        guard let slash = workRoot.lastIndex(of: "/"), slash != workRoot.startIndex else { return "/" }
        return String(workRoot[..<slash])
    }

    /// `corral.slice`, or `<own cgroup>/corral.slice` when this process runs in a cgroup systemd delegated
    /// to it (Delegate=yes marks it with the `trusted.delegate` or `user.delegate` xattr).
    public static func defaultCgroupParent() -> String {
        guard let own = CgroupHost.ownUnifiedCgroup(), own != "/", let host = try? CgroupHost.detect(),
            let mount = host.unifiedMount, isDelegated(mount + own)
        else { return "corral.slice" }
        return String(own.dropFirst()) + "/corral.slice"
    }

    static func isDelegated(_ dir: String) -> Bool {
        ["trusted.delegate", "user.delegate"].contains { name in
            var value: UInt8 = 0
            return getxattr(dir, name, &value, 1) == 1 && value == UInt8(ascii: "1")
        }
    }

    /// `/run/corral/work` when /run is a tmpfs (as on systemd hosts), otherwise `/dev/shm/corral/work`:
    /// removing work directories on a disk filesystem costs milliseconds per task.
    public static func defaultWorkRoot() -> String {
        FileSystem.type("/run") == CgroupHost.tmpfsMagic ? "/run/corral/work" : "/dev/shm/corral/work"
    }
}
