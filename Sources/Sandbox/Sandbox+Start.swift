import CSandbox
import Cgroups
import CorralModel
import Logging
import Synchronization
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

extension Sandbox {
    static let searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Clones PID 1 into the cgroup2 directory (PID 1 then joins the v1 ones itself; without
    /// CLONE_INTO_CGROUP it is held until we wrote its pid to cgroup.procs), then waits for the task's exec
    /// without blocking a thread: EOF on the close-on-exec error pipe means it runs, with
    /// `cpuQuota` written by PID 1 after the exec (and lifted when the task has ended).
    func start(
        _ spec: TaskSpec, user: UserIdentity, lease: IdentityLease?, rootfs: String?, work: WorkDirectory,
        cgroup: Cgroup, cpuQuota: Cgroup.DeferredWrite?
    ) async throws(SandboxError) -> SandboxedTask {
        let status = try StatusChannel.open(file: spec.statusFile)
        defer { status.closeWriteEnd() }

        var useClone = host.unifiedMount != nil && cloneIntoCgroup.load(ordering: .relaxed)
        var handle = corral_spawn_handle()
        var rc: Int32
        repeat {
            let cgroupFD: Int32
            do { cgroupFD = useClone ? try cgroup.openUnifiedDirectory() : -1 } catch {
                status.closeReadEnd()
                throw SandboxError(error)
            }
            rc = spawn(
                spec, user: user, rootfs: rootfs, work: work, status: status,
                cgroupFD: cgroupFD, joinFiles: cgroup.legacyTaskFiles,
                hold: (cgroup.unifiedPath != nil && !useClone) || spec.prepare != nil,
                cpuQuota: cpuQuota, handle: &handle)
            if cgroupFD >= 0 { close(cgroupFD) }
            // Kernels without CLONE_INTO_CGROUP (< 5.7) or refusing this cgroup: fall back to holding PID 1
            // until its pid is written to cgroup.procs.
            if useClone, [EINVAL, ENOSYS, E2BIG, EOPNOTSUPP].contains(-rc) {
                logger.notice(
                    "clone3 into cgroup refused; placing tasks by cgroup.procs", metadata: ["errno": "\(-rc)"])
                cloneIntoCgroup.store(false, ordering: .relaxed)
                useClone = false
                continue
            }
            break
        } while true
        guard rc == 0 else {
            status.closeReadEnd()
            throw SandboxError(.spawn, "clone3 failed: \(String(cString: strerror(-rc))) (errno \(-rc))", errno: -rc)
        }

        if handle.release_fd >= 0 {
            if cgroup.unifiedPath != nil && !useClone {
                do throws(CgroupError) { try cgroup.add(pid: handle.pid, unified: true, legacy: false) } catch {
                    corral_release(&handle, 0)
                    await abandon(&handle, status: status)
                    throw SandboxError(error)
                }
            }
            if let prepare = spec.prepare {
                do { try await prepare(handle.pid) } catch {
                    corral_release(&handle, 0)
                    await abandon(&handle, status: status)
                    throw error as? SandboxError ?? SandboxError(.network, "\(error)")
                }
            }
            corral_release(&handle, 1)
        }
        await DescriptorWaiter.shared.wait(for: handle.error_fd)
        var setupError = corral_setup_error()
        let exec = corral_await_exec(&handle, &setupError)
        guard exec == 0 else {
            await abandon(&handle, status: status)
            if exec == 1 { throw SandboxError(setup: setupError) }
            throw SandboxError(.spawn, "reading the error pipe failed (errno \(-exec))", errno: -exec)
        }
        let grace = spec.killGrace ?? config.killGrace
        let record = spec.statusFile.flatMap { file in
            ProcessStartTime.read(handle.pid).map { started in
                AdoptionRecord(
                    id: spec.id, pid: handle.pid, startTime: started, cgroup: cgroup, work: work, statusFile: file,
                    deadline: spec.timeout.map { WallClock.now + $0.inSeconds }, killGrace: grace, taskUID: lease?.uid,
                    user: user)
            }
        }
        return SandboxedTask(
            id: spec.id, pid: handle.pid, pidfd: handle.pidfd, cgroup: cgroup, status: status, work: work,
            timeout: spec.timeout, grace: grace, record: record, lease: lease, user: user, logger: logger)
    }

    /// Fills the C config (pointers live in the arena and the closures' buffers) and clones PID 1.
    private func spawn(
        _ spec: TaskSpec, user: UserIdentity, rootfs: String?, work: WorkDirectory, status: StatusChannel,
        cgroupFD: Int32, joinFiles: [String], hold: Bool, cpuQuota: Cgroup.DeferredWrite?,
        handle: inout corral_spawn_handle
    ) -> Int32 {
        let arena = CStringArena()
        let environment = self.environment(user, hostname: spec.id, spec.environment)
        var cfg = corral_spawn_config()
        cfg.argv = arena.array(spec.argv)
        cfg.envp = arena.array(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        cfg.search_path = arena.string(environment["PATH"] ?? Self.searchPath)
        cfg.cwd = arena.string(config.workMount)
        cfg.cgroup_fd = cgroupFD
        cfg.join_files = joinFiles.isEmpty ? nil : arena.array(joinFiles)
        cfg.hold = hold ? 1 : 0
        cfg.isolate = 1
        cfg.new_network = spec.network == .none ? 1 : 0
        cfg.hostname = arena.string(spec.id)
        cfg.rootfs = arena.optional(rootfs)
        cfg.root_dir = rootfs == nil && config.hardening.contains(.ownRoot) ? arena.string(rootMountPoint) : nil
        cfg.root_binds = rootfs == nil && !hostRoot.binds.isEmpty ? arena.array(hostRoot.binds) : nil
        cfg.root_links =
            rootfs == nil && !hostRoot.links.isEmpty ? arena.array(hostRoot.links.flatMap { [$0.0, $0.1] }) : nil
        cfg.seccomp = config.seccomp ? 1 : 0
        cfg.work_source = arena.string(work.path)
        cfg.work_target = arena.string(config.workMount)
        cfg.mounts =
            spec.mounts.isEmpty
            ? nil : arena.array(spec.mounts.flatMap { [$0.source, $0.target, $0.kind] })
        cfg.tmp_size = spec.tmpSize ?? 0
        cfg.uid = user.uid
        cfg.gid = user.gid
        cfg.stdin_fd = spec.stdin ?? devNull
        cfg.stdout_fd = spec.stdout ?? devNull
        cfg.stderr_fd = spec.stderr ?? devNull
        cfg.status_fd = status.writeFD
        cfg.cpu_quota_fd = cpuQuota?.fd ?? -1
        cfg.cpu_quota = arena.optional(cpuQuota?.value)
        cfg.cpu_quota_path = arena.optional(cpuQuota?.path)
        cfg.cpu_quota_lift = arena.optional(cpuQuota?.unlimited)
        let rlimits = spec.rlimits.map { corral_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        let groups: [UInt32] = user.groups.map { UInt32($0) }
        return groups.withUnsafeBufferPointer { groups in
            rlimits.withUnsafeBufferPointer { limits in
                cfg.groups = groups.baseAddress
                cfg.ngroups = Int32(groups.count)
                cfg.rlimits = limits.baseAddress
                cfg.nrlimits = Int32(limits.count)
                return spawner?.spawn(&cfg, &handle) ?? corral_spawn(&cfg, &handle)
            }
        }
    }

    /// A task's environment: PATH, HOME, USER, LOGNAME and HOSTNAME, then what the spec gives (which wins).
    func environment(_ user: UserIdentity, hostname: String, _ given: [String: String]) -> [String: String] {
        var environment = [
            "PATH": Self.searchPath, "HOME": config.workMount, "USER": user.name, "LOGNAME": user.name,
            "HOSTNAME": hostname,
        ]
        environment.merge(given) { _, given in given }
        return environment
    }

    /// A PID 1 that will not run the task: wait for it to exit and release its descriptors.
    private func abandon(_ handle: inout corral_spawn_handle, status: StatusChannel) async {
        if handle.error_fd >= 0 { close(handle.error_fd) }
        var code: Int32 = 0
        var value: Int32 = 0
        while corral_pidfd_reap(handle.pidfd, &code, &value) == 0 {
            await DescriptorWaiter.shared.wait(for: handle.pidfd)
        }
        close(handle.pidfd)
        status.closeReadEnd()
    }
}
