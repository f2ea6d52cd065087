import CSandbox
import Cgroups
import CorralModel
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What a command run inside a task's sandbox did.
public struct EnteredCommand: Sendable, Equatable {
    /// nil when it was killed at its timeout.
    public var status: ExitStatus?
    /// The start of its stdout and stderr (interleaved), at most the requested limit.
    public var output: String
    /// Bytes past the limit that were read and dropped.
    public var truncated: Int
}

extension Sandbox {
    /// Runs `argv` inside a running task: its cgroups (its CPU, memory and pids limits count it), its
    /// namespaces, its user and groups, no capabilities, its seccomp filter, in its work directory (CSandbox
    /// corral_enter). This is how exec health checks run: they can do no more than the task itself.
    /// Killed at `timeout`; the output beyond `outputLimit` bytes is dropped (still read, so the command
    /// never blocks on a full pipe). A setup or exec failure throws with the step and errno.
    public func run(
        _ argv: [String], in task: SandboxedTask, environment: [String: String] = [:], timeout: Duration,
        outputLimit: Int = 4096
    ) async throws(SandboxError) -> EnteredCommand {
        guard !argv.isEmpty, !argv[0].isEmpty else { throw SandboxError(.invalidSpec, "the command is empty") }
        guard let user = task.user else {
            throw SandboxError(.configuration, "the task's user is not recorded (it was started by an older agent)")
        }
        guard let target = await task.duplicatePIDFD() else { throw SandboxError(.exec, "the task has ended") }
        defer { close(target) }
        var pipe: [Int32] = [-1, -1]
        let rc = corral_pipe_cloexec(&pipe)
        guard rc == 0 else { throw SandboxError(.spawn, "pipe failed", errno: -rc) }
        let reader = OutputReader(fd: pipe[0], limit: outputLimit)

        var handle = corral_spawn_handle()
        let spawned = withConfig(argv, task: task, user: user, environment: environment, output: pipe[1]) { cfg in
            corral_enter(&cfg, target, &handle)
        }
        close(pipe[1])
        guard spawned == 0 else {
            close(pipe[0])
            throw SandboxError(.spawn, "clone3 failed: \(String(cString: strerror(-spawned)))", errno: -spawned)
        }
        let collecting = Task { await reader.collect() }
        await DescriptorWaiter.shared.wait(for: handle.error_fd)
        var setupError = corral_setup_error()
        let exec = corral_await_exec(&handle, &setupError)
        let status = await Self.reap(handle.pidfd, killAfter: exec == 0 ? timeout : .zero)
        close(handle.pidfd)
        collecting.cancel()
        let (output, dropped) = await collecting.value
        guard exec == 0 else {
            if exec == 1 { throw SandboxError(setup: setupError) }
            throw SandboxError(.spawn, "reading the error pipe failed (errno \(-exec))", errno: -exec)
        }
        return EnteredCommand(status: status, output: output, truncated: dropped)
    }

    /// The task's own confinement for the command: user, groups, seccomp, work directory, cgroups.
    private func withConfig(
        _ argv: [String], task: SandboxedTask, user: UserIdentity, environment: [String: String], output: Int32,
        _ body: (inout corral_spawn_config) -> Int32
    ) -> Int32 {
        let arena = CStringArena()
        let variables = self.environment(user, hostname: task.id, environment)
        var joinFiles = task.cgroup.legacyTaskFiles
        if let unified = task.cgroup.unifiedPath { joinFiles.append(unified + "/cgroup.procs") }
        var cfg = corral_spawn_config()
        cfg.argv = arena.array(argv)
        cfg.envp = arena.array(variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        cfg.search_path = arena.string(variables["PATH"] ?? Self.searchPath)
        cfg.cwd = arena.string(config.workMount)
        cfg.cgroup_fd = -1
        cfg.join_files = arena.array(joinFiles)
        cfg.seccomp = config.seccomp ? 1 : 0
        cfg.uid = user.uid
        cfg.gid = user.gid
        cfg.stdin_fd = devNull
        cfg.stdout_fd = output
        cfg.stderr_fd = output
        cfg.status_fd = -1
        cfg.cpu_quota_fd = -1
        cfg.parent_death_signal = SIGKILL
        let groups: [UInt32] = user.groups.map { UInt32($0) }
        return groups.withUnsafeBufferPointer { groups in
            cfg.groups = groups.baseAddress
            cfg.ngroups = Int32(groups.count)
            return body(&cfg)
        }
    }

    /// Waits for the intermediate process to exit. At `killAfter` it gets SIGTERM, on which it kills the
    /// command and reaps it (corral_enter); should it not be gone 2 s later, SIGKILL. nil when it was killed.
    private static func reap(_ pidfd: Int32, killAfter: Duration) async -> ExitStatus? {
        var deadline: ContinuousClock.Instant? = ContinuousClock.now + killAfter
        var signal = SIGTERM
        var killed = false
        while true {
            var code: Int32 = 0
            var value: Int32 = 0
            let rc = corral_pidfd_reap(pidfd, &code, &value)
            if rc < 0 { return nil }
            if rc > 0 {
                if killed || code != CLD_EXITED { return nil }
                return value > 128 ? .signaled(value - 128) : .exited(value)
            }
            if let due = deadline, ContinuousClock.now >= due {
                killed = true
                _ = corral_pidfd_signal(pidfd, signal)
                deadline = signal == SIGTERM ? .now + .seconds(2) : nil
                signal = SIGKILL
                continue
            }
            let waiting = Task { await DescriptorWaiter.shared.wait(for: pidfd) }
            let alarm = deadline.map { due in
                Task {
                    try? await Task.sleep(until: due)
                    waiting.cancel()
                }
            }
            await waiting.value
            alarm?.cancel()
        }
    }
}

/// Reads a command's output pipe until EOF, or until cancelled (then once more without waiting), keeping
/// the first `limit` bytes. Owns and closes the descriptor.
private struct OutputReader: Sendable {
    let fd: Int32
    let limit: Int

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = max(0, limit)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    func collect() async -> (String, Int) {
        defer { close(fd) }
        var kept: [UInt8] = []
        var dropped = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                let room = limit - kept.count
                kept.append(contentsOf: buffer[0..<min(n, room)])
                dropped += max(0, n - room)
                continue
            }
            if n == 0 || errno != EAGAIN && errno != EINTR { break }
            if errno == EINTR { continue }
            if Task.isCancelled { break }
            await DescriptorWaiter.shared.wait(for: fd)
        }
        return (String(decoding: kept, as: UTF8.self), dropped)
    }
}
