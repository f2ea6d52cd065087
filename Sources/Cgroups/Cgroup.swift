import CSandbox
import Synchronization
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One task's cgroup: a directory in the cgroup2 tree (membership, kill, cpu.stat, PSI) and, on hybrid
/// and v1 hosts, one in each v1 hierarchy that carries a limit or a statistic. It removes only the
/// directories it created.
public struct Cgroup: Sendable {
    public let host: CgroupHost
    /// Path relative to each hierarchy's root, e.g. `corral.slice/t-42`.
    public let relativePath: String
    /// The cgroup2 directory (nil on pure v1).
    public let unifiedPath: String?
    /// v1 controller -> directory. Co-mounted controllers point at the same directory.
    public let legacyPaths: [String: String]
    /// Directories this value created, outermost first; remove() deletes them innermost first.
    let created: [String]

    /// The v1 hierarchies a task with these limits is created in: limits, plus memory, pids and blkio for
    /// the statistics the v2 tree cannot give on a hybrid host, plus cpuacct and freezer on pure v1.
    public static func legacyControllers(for limits: CgroupLimits, mode: CgroupMode) -> [String] {
        switch mode {
        case .unified: return []
        case .hybrid:
            return ["memory", "pids", "blkio"] + (limits.legacyControllersNeeded.contains("cpu") ? ["cpu"] : [])
        case .legacy: return ["memory", "pids", "blkio", "cpu", "cpuacct", "freezer", "devices"]
        }
    }

    /// Creates `parent/name` in the cgroup2 tree and in the given v1 hierarchies. The parent is prepared
    /// once per process (created if missing, controllers enabled for its children).
    public static func create(
        name: String, parent: String, host: CgroupHost, legacyControllers: [String]
    ) throws(CgroupError) -> Cgroup {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw CgroupError(.invalid, path: name, detail: "a cgroup name is one path component")
        }
        try CgroupParent.prepare(parent, host: host)
        let relative = parent.isEmpty ? name : parent + "/" + name
        var created: [String] = []
        var unified: String?
        var legacy: [String: String] = [:]
        do throws(CgroupError) {
            if let mount = host.unifiedMount {
                let dir = mount + "/" + relative
                if try CgroupFile.makeDirectory(dir) {
                    created.append(dir)
                } else {
                    throw CgroupError(.create, path: dir, errno: EEXIST)
                }
                unified = dir
            }
            for (controller, mount) in host.legacyDirectories(for: legacyControllers) {
                let dir = mount + "/" + relative
                if try CgroupFile.makeDirectory(dir) {
                    created.append(dir)
                } else {
                    throw CgroupError(.create, path: dir, errno: EEXIST)
                }
                legacy[controller] = dir
            }
        } catch {
            for dir in created.reversed() { rmdir(dir) }
            throw error
        }
        for (controller, mount) in host.legacyMounts where legacy[controller] == nil {
            if let dir = legacy.first(where: { host.legacyMounts[$0.key] == mount })?.value { legacy[controller] = dir }
        }
        return Cgroup(host: host, relativePath: relative, unifiedPath: unified, legacyPaths: legacy, created: created)
    }

    /// An existing cgroup (a task re-adopted after a restart, or a test fixture): nothing will be removed
    /// unless `owned` is true.
    public init(
        host: CgroupHost, relativePath: String, unifiedPath: String?, legacyPaths: [String: String], owned: Bool
    ) {
        self.init(
            host: host, relativePath: relativePath, unifiedPath: unifiedPath, legacyPaths: legacyPaths,
            created: owned ? [unifiedPath].compactMap { $0 } + Array(Set(legacyPaths.values)).sorted() : [])
    }

    /// The directories named `relativePath` that exist in any hierarchy (a cgroup left by a crashed run, an
    /// agent's parent); nil when there are none. `owned` as for `init(…owned:)`.
    public static func existing(_ relativePath: String, host: CgroupHost, owned: Bool) -> Cgroup? {
        let unified = host.unifiedMount.map { $0 + "/" + relativePath }.flatMap { FileIO.exists($0) ? $0 : nil }
        var legacy: [String: String] = [:]
        for (controller, mount) in host.legacyMounts where FileIO.exists(mount + "/" + relativePath) {
            legacy[controller] = mount + "/" + relativePath
        }
        guard unified != nil || !legacy.isEmpty else { return nil }
        return Cgroup(host: host, relativePath: relativePath, unifiedPath: unified, legacyPaths: legacy, owned: owned)
    }

    init(host: CgroupHost, relativePath: String, unifiedPath: String?, legacyPaths: [String: String], created: [String])
    {
        self.host = host
        self.relativePath = relativePath
        self.unifiedPath = unifiedPath
        self.legacyPaths = legacyPaths
        self.created = created
    }

    /// Where the limits live: the v2 directory on pure v2 hosts, otherwise v1.
    public var limitsAreUnified: Bool { host.mode == .unified }

    /// Writes the limits (v2 files on pure v2, v1 files on hybrid and v1 hosts). A new cgroup starts
    /// unlimited, so only set limits are written; `resetUnset` writes "max" for the others (an update).
    public func apply(_ limits: CgroupLimits, resetUnset: Bool = false) throws(CgroupError) {
        if limitsAreUnified, let dir = unifiedPath {
            for (file, value) in limits.unifiedFiles(resetUnset: resetUnset) {
                try CgroupFile.write(value, to: dir + "/" + file)
            }
            return
        }
        let memsw = legacyPaths["memory"].map { FileIO.exists($0 + "/memory.memsw.limit_in_bytes") } ?? false
        for (controller, file, value) in limits.legacyFiles(memsw: memsw, resetUnset: resetUnset) {
            guard let dir = legacyPaths[controller] else {
                throw CgroupError(.notSupported, path: file, detail: "the \(controller) v1 controller is not mounted")
            }
            try CgroupFile.write(value, to: dir + "/" + file)
        }
    }

    /// A limit to be written later through a descriptor opened now (the caller closes it), and the value
    /// that lifts it again.
    public struct DeferredWrite: Sendable {
        public let fd: Int32
        public let path: String
        public let value: String
        public let unlimited: String
    }

    /// Writes the limits but the CPU quota, and opens the quota's file (v2 `cpu.max`, v1
    /// `cpu.cfs_quota_us`) for the sandbox's PID 1 to write after the task's exec and lift after its end,
    /// so that Corral's own setup and teardown in the cgroup do not spend a small quota. nil without a CPU
    /// limit. A new cgroup has the kernel's 100 ms period, which is `CgroupLimits.cpuPeriodUsec`.
    public func applyDeferringCPUQuota(_ limits: CgroupLimits) throws(CgroupError) -> DeferredWrite? {
        var others = limits
        others.cpuCores = nil
        try apply(others)
        let unified = limitsAreUnified && unifiedPath != nil
        guard let quota = limits.cpuQuotaFile(unified: unified) else { return nil }
        guard let dir = unified ? unifiedPath : legacyPaths["cpu"] else {
            throw CgroupError(.notSupported, path: quota.file, detail: "the cpu v1 controller is not mounted")
        }
        let path = dir + "/" + quota.file
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupError(.open, path: path, errno: errno) }
        return DeferredWrite(fd: fd, path: path, value: quota.value, unlimited: quota.unlimited)
    }

    /// Opens the cgroup2 directory for clone3(CLONE_INTO_CGROUP). The caller closes it.
    public func openUnifiedDirectory() throws(CgroupError) -> Int32 {
        guard let dir = unifiedPath else {
            throw CgroupError(.notSupported, path: relativePath, detail: "no cgroup2 tree")
        }
        let fd = open(dir, Int32(CORRAL_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupError(.open, path: dir, errno: errno) }
        return fd
    }

    /// Moves a process in: into the v2 directory and/or every v1 directory.
    public func add(pid: pid_t, unified: Bool = true, legacy: Bool = true) throws(CgroupError) {
        if unified, let dir = unifiedPath { try CgroupFile.write("\(pid)", to: dir + "/cgroup.procs") }
        if legacy { for dir in legacyDirectories { try CgroupFile.write("\(pid)", to: dir + "/cgroup.procs") } }
    }

    /// Each v1 directory once (co-mounted controllers share one).
    public var legacyDirectories: [String] { Array(Set(legacyPaths.values)).sorted() }

    /// The v1 `tasks` files a single-threaded process writes "0" to in order to join this cgroup itself.
    public var legacyTaskFiles: [String] { legacyDirectories.map { $0 + "/tasks" } }

    /// The processes in the cgroup (from the v2 tree, or the first v1 hierarchy).
    public func processes() -> [pid_t] {
        let dir = unifiedPath ?? legacyPaths["memory"] ?? legacyPaths.values.first
        guard let dir, let text = FileIO.readIfPresent(dir + "/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Whether any process is still in the cgroup.
    public var isPopulated: Bool {
        if let dir = unifiedPath, let events = FileIO.readIfPresent(dir + "/cgroup.events") {
            return CgroupFormat.populated(events)
        }
        return !processes().isEmpty
    }

    /// Removes the directories this value created, innermost first, retrying EBUSY (a cgroup whose last
    /// process has just exited can stay busy for a moment) with a short exponential backoff.
    public func remove() async throws(CgroupError) {
        for dir in created.reversed() {
            var delay = Duration.microseconds(500)
            var attempts = 0
            while rmdir(dir) != 0 {
                let err = errno
                if err == ENOENT { break }
                attempts += 1
                guard err == EBUSY, attempts < 14 else { throw CgroupError(.remove, path: dir, errno: err) }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(200))
            }
        }
    }
}

/// Parents of task cgroups (`corral.slice` by default): created if missing and, in the cgroup2 tree,
/// given the controllers their children need. Done once per process and parent.
public enum CgroupParent {
    static let prepared = Mutex<Set<String>>([])
    /// Controllers Corral enables for task cgroups in a v2 tree (when the host offers them).
    public static let unifiedControllers = ["cpu", "memory", "io", "pids"]

    public static func prepare(_ parent: String, host: CgroupHost) throws(CgroupError) {
        let key = ([host.unifiedMount ?? "", parent] + host.legacyMounts.values.sorted()).joined(separator: "|")
        if prepared.withLock({ $0.contains(key) }) { return }
        if let mount = host.unifiedMount {
            _ = try CgroupFile.makeDirectories(mount + "/" + parent)
            var level = mount
            try enableControllers(at: level)
            for component in parent.split(separator: "/") {
                level += "/" + component
                try enableControllers(at: level)
            }
        }
        for mount in Set(host.legacyMounts.values) { _ = try CgroupFile.makeDirectories(mount + "/" + parent) }
        prepared.withLock { _ = $0.insert(key) }
    }

    /// Removes `parent` and its ancestors up to the hierarchy roots in every hierarchy, where empty (an
    /// operator's slice that still holds cgroups stays). Used by tools that made a parent for themselves.
    public static func removeIfEmpty(_ parent: String, host: CgroupHost) {
        let components = parent.split(separator: "/").map(String.init)
        for mount in Set([host.unifiedMount].compactMap { $0 } + host.legacyMounts.values) {
            for depth in stride(from: components.count, to: 0, by: -1) {
                rmdir(mount + "/" + components.prefix(depth).joined(separator: "/"))
            }
        }
        prepared.withLock { $0 = $0.filter { !$0.contains("|" + parent + "|") && !$0.hasSuffix("|" + parent) } }
    }

    /// Writes `+ctrl` for each wanted, available, not yet enabled controller to cgroup.subtree_control.
    static func enableControllers(at dir: String) throws(CgroupError) {
        guard let available = FileIO.readIfPresent(dir + "/cgroup.controllers") else { return }
        let enabled = Set(
            (FileIO.readIfPresent(dir + "/cgroup.subtree_control") ?? "").split(whereSeparator: \.isWhitespace).map(
                String.init))
        let offered = Set(available.split(whereSeparator: \.isWhitespace).map(String.init))
        let missing = unifiedControllers.filter { offered.contains($0) && !enabled.contains($0) }
        guard !missing.isEmpty else { return }
        try CgroupFile.write(missing.map { "+" + $0 }.joined(separator: " "), to: dir + "/cgroup.subtree_control")
    }
}
