/// Sandbox: one isolated task. A `TaskSpec` becomes a running `SandboxedTask` (CSandbox + Cgroups + work
/// directory + image) whose end is awaited through its pidfd. It knows nothing of jobs or schedulers.
import CSandbox
import Cgroups
import CorralModel
import Logging
import Synchronization
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Launches tasks on this host.
public final class Sandbox: Sendable {
    public let host: CgroupHost
    public let config: SandboxConfig
    let logger: Logger
    /// Task uids, leased per running task.
    let identities: TaskIdentities
    /// The root of tasks without an image, and the empty directory PID 1 assembles it on.
    let hostRoot: HostRoot
    let rootMountPoint: String
    /// The work root, opened once by descriptor: work directories are made with mkdirat/fchownat in it.
    let workRootFD: Int32
    let devices: DeviceAllowlist
    /// Whether clone3(CLONE_INTO_CGROUP) works here; turned off after the kernel refuses it once.
    let cloneIntoCgroup = Atomic<Bool>(true)
    /// Clones sandboxes from a small helper process (nil: in-process, e.g. when it could not start).
    let spawner: Spawner?
    /// Stdio for tasks that are given none; opened once, not per launch.
    let devNull: Int32

    /// Checks the host and Corral's directories before any task runs: the work root and the directory
    /// holding it must be root's alone (reached without following a symlink, root-owned, not writable by
    /// group or others), the uid range must be free of host accounts, the root paths valid.
    public init(config: SandboxConfig = SandboxConfig(), logger: Logger = Logger(label: "corral.sandbox"))
        throws(SandboxError)
    {
        guard geteuid() == 0 else {
            throw SandboxError(
                .notPermitted,
                "Corral launches tasks as root (namespaces, cgroups, mounts); run it with sudo or as root")
        }
        do throws(CgroupError) { host = try CgroupHost.detect() } catch { throw SandboxError(error) }
        let runtime = config.runtimeDirectory
        guard runtime != "/" else {
            throw SandboxError(
                .configuration, "the work root \(config.workRoot) must be inside a directory of Corral's own",
                path: config.workRoot)
        }
        let conflicts = TaskIdentities.conflicts(with: config.identities)
        guard conflicts.isEmpty else {
            throw SandboxError(
                .configuration,
                "task uid range \(config.identities) holds host accounts: \(conflicts.prefix(5).joined(separator: ", "))",
                path: "/etc/passwd")
        }
        hostRoot = try HostRoot.resolve(config.rootPaths, runtimeDirectory: runtime)
        rootMountPoint = runtime + "/task-root"
        do throws(SystemError) {
            workRootFD = try TrustedDirectory.open(config.workRoot, mode: 0o711, strict: 2)
            close(try TrustedDirectory.open(rootMountPoint, mode: 0o700, strict: 2))
        } catch {
            throw SandboxError(.workDirectory, error.description, errno: error.errno, path: error.path)
        }
        if !config.hardening.contains(.ownRoot) {
            do throws(SystemError) { _ = try FileIO.makeDirectory(config.workMount) } catch {
                throw SandboxError(.workDirectory, error.description, errno: error.errno, path: error.path)
            }
        }
        identities = try TaskIdentities(range: config.identities, directory: runtime + "/task-ids", host: host)
        do throws(CgroupError) { devices = try DeviceAllowlist(host: host) } catch { throw SandboxError(error) }
        guard corral_seccomp_prepare() == 0 else {
            throw SandboxError(.spawn, "cannot build the seccomp filter (CSandbox/seccomp.c)")
        }
        self.config = config
        self.logger = logger
        spawner = config.useSpawner ? Spawner(logger: logger) : nil
        devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw SandboxError(.spawn, "cannot open /dev/null", errno: errno, path: "/dev/null") }
    }

    deinit {
        close(devNull)
        close(workRootFD)
    }

    /// Starts a task: cgroup with limits, work directory, PID 1 in new namespaces, the task exec'd.
    /// Returns once the task's exec succeeded; a failed setup or exec throws with the step, errno and path.
    public func launch(_ spec: TaskSpec) async throws(SandboxError) -> SandboxedTask {
        let problems = spec.validate()
        guard problems.isEmpty else { throw SandboxError(problems) }
        let rootfs = try spec.image.map { name throws(SandboxError) in
            try ImageStore(directory: config.imagesDirectory).rootfs(for: name)
        }
        let cgroupPath = config.cgroupParent.isEmpty ? spec.id : config.cgroupParent + "/" + spec.id
        let (user, lease) = try identity(for: spec, cgroup: cgroupPath)
        let work: WorkDirectory
        do {
            work = try WorkDirectory.prepare(spec: spec, root: config.workRoot, rootFD: workRootFD, owner: user)
        } catch {
            lease?.release()
            throw error
        }

        let cgroup: Cgroup
        do {
            cgroup = try Cgroup.create(
                name: spec.id, parent: config.cgroupParent, host: host,
                legacyControllers: Cgroup.legacyControllers(for: spec.limits, mode: host.mode))
        } catch {
            work.remove()
            lease?.release()
            throw SandboxError(error)
        }
        do throws(SandboxError) {
            let cpuQuota: Cgroup.DeferredWrite?
            do {
                if config.hardening.contains(.deviceAllowlist) { try devices.apply(to: cgroup) }
                cpuQuota = try cgroup.applyDeferringCPUQuota(spec.limits)
            } catch { throw SandboxError(error) }
            defer { if let cpuQuota { close(cpuQuota.fd) } }
            return try await start(
                spec, user: user, lease: lease, rootfs: rootfs, work: work, cgroup: cgroup, cpuQuota: cpuQuota)
        } catch {
            try? await cgroup.remove()
            work.remove()
            lease?.release()
            throw error
        }
    }

    /// Who the task runs as: the account the spec names (never root), or a uid of its own from the range,
    /// with the spec's supplementary groups (a tenant's group).
    func identity(for spec: TaskSpec, cgroup: String) throws(SandboxError) -> (UserIdentity, IdentityLease?) {
        if let name = spec.user {
            let user = try UserIdentity.resolve(name)
            guard user.uid != 0, user.gid != 0, !user.groups.contains(0) else {
                throw SandboxError(
                    .user,
                    "user: tasks never run as root (\"\(name)\" is uid \(user.uid), gid \(user.gid), groups \(user.groups))"
                )
            }
            return (user, nil)
        }
        let lease = try identities.lease(for: cgroup)
        let groups = [lease.uid] + spec.groups.filter { $0 != lease.uid }
        return (UserIdentity(name: "task-\(lease.uid)", uid: lease.uid, gid: lease.uid, groups: groups), lease)
    }
}
