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
    let defaultUser: UserIdentity
    /// Whether clone3(CLONE_INTO_CGROUP) works here; turned off after the kernel refuses it once.
    let cloneIntoCgroup = Atomic<Bool>(true)
    let hostMountPointReady = Atomic<Bool>(false)
    /// Clones sandboxes from a small helper process (nil: in-process, e.g. when it could not start).
    let spawner: Spawner?
    /// Stdio for tasks that are given none; opened once, not per launch.
    let devNull: Int32

    public init(config: SandboxConfig = SandboxConfig(), logger: Logger = Logger(label: "corral.sandbox"))
        throws(SandboxError)
    {
        guard geteuid() == 0 else {
            throw SandboxError(
                .notPermitted,
                "Corral launches tasks as root (namespaces, cgroups, mounts); run it with sudo or as root")
        }
        do throws(CgroupError) { host = try CgroupHost.detect() } catch { throw SandboxError(error) }
        do throws(SystemError) {
            _ = try FileIO.makeDirectories(config.workRoot, mode: 0o711)
        } catch {
            throw SandboxError(.workDirectory, error.description, errno: error.errno, path: error.path)
        }
        self.config = config
        self.logger = logger
        defaultUser = try UserIdentity.resolve(config.defaultUser)
        spawner = config.useSpawner ? Spawner(logger: logger) : nil
        devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw SandboxError(.spawn, "cannot open /dev/null", errno: errno, path: "/dev/null") }
    }

    deinit { close(devNull) }

    /// Starts a task: cgroup with limits, work directory, PID 1 in new namespaces, the task exec'd.
    /// Returns once the task's exec succeeded; a failed setup or exec throws with the step, errno and path.
    public func launch(_ spec: TaskSpec) async throws(SandboxError) -> SandboxedTask {
        let problems = spec.validate()
        guard problems.isEmpty else { throw SandboxError(problems) }
        let user = try spec.user.map(UserIdentity.resolve) ?? defaultUser
        let rootfs = try spec.image.map { name throws(SandboxError) in
            try ImageStore(directory: config.imagesDirectory).rootfs(for: name)
        }
        if rootfs == nil { try ensureHostMountPoint() }
        let work = try WorkDirectory.prepare(spec: spec, root: config.workRoot, owner: user)

        let cgroup: Cgroup
        do {
            cgroup = try Cgroup.create(
                name: spec.id, parent: config.cgroupParent, host: host,
                legacyControllers: Cgroup.legacyControllers(for: spec.limits, mode: host.mode))
        } catch {
            work.remove()
            throw SandboxError(error)
        }
        do throws(SandboxError) {
            let cpuQuota: Cgroup.DeferredWrite?
            do { cpuQuota = try cgroup.applyDeferringCPUQuota(spec.limits) } catch { throw SandboxError(error) }
            defer { if let cpuQuota { close(cpuQuota.fd) } }
            return try await start(spec, user: user, rootfs: rootfs, work: work, cgroup: cgroup, cpuQuota: cpuQuota)
        } catch {
            try? await cgroup.remove()
            work.remove()
            throw error
        }
    }

    /// Creates the host's `/work` mount point once (tasks without an image see the host root).
    func ensureHostMountPoint() throws(SandboxError) {
        if hostMountPointReady.load(ordering: .relaxed) { return }
        do { try FileIO.makeDirectory(config.workMount) } catch {
            throw SandboxError(
                .workDirectory, "cannot create the mount point \(config.workMount): \(error)", path: config.workMount)
        }
        hostMountPointReady.store(true, ordering: .relaxed)
    }
}
