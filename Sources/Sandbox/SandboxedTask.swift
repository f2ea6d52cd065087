import CSandbox
import Cgroups
import CorralModel
import Logging
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A running task. Its end is awaited through PID 1's pidfd (no polling); timeouts and stop requests
/// go through `TaskLifecycle`, whose actions this actor carries out.
public actor SandboxedTask {
    public nonisolated let id: String
    /// Host pid of the sandbox's PID 1 (the task itself is PID 2 inside).
    public nonisolated let pid: pid_t
    public nonisolated let cgroup: Cgroup
    public nonisolated let startedAt: ContinuousClock.Instant
    /// What an agent persists to find this task again after its own restart (nil without a status file).
    public nonisolated let record: AdoptionRecord?
    /// Who the task runs as (nil when adopted from a record that did not say).
    public nonisolated let user: UserIdentity?
    nonisolated let pidfd: Int32
    nonisolated let usageReader: CgroupUsageReader
    /// Found again after a restart: PID 1 is not our child, so its end is seen but not reaped here.
    let adopted: Bool
    let status: StatusChannel
    let work: WorkDirectory
    let lease: IdentityLease?
    let timeout: Duration?
    let grace: Duration
    let logger: Logger
    var lifecycle = TaskLifecycle()
    var timers: [Task<Void, Never>] = []
    var completion: Task<TaskOutcome, Never>?

    init(
        id: String, pid: pid_t, pidfd: Int32, cgroup: Cgroup, status: StatusChannel, work: WorkDirectory,
        timeout: Duration?, grace: Duration, record: AdoptionRecord?, lease: IdentityLease?, user: UserIdentity?,
        adopted: Bool = false,
        startedAt: ContinuousClock.Instant = .now, logger: Logger
    ) {
        self.id = id
        self.pid = pid
        self.pidfd = pidfd
        self.cgroup = cgroup
        usageReader = CgroupUsageReader(cgroup)
        self.status = status
        self.work = work
        self.lease = lease
        self.timeout = timeout
        self.grace = grace
        self.record = record
        self.user = user
        self.adopted = adopted
        var logger = logger
        logger[metadataKey: "task"] = "\(id)"
        self.logger = logger
        self.startedAt = startedAt
    }

    /// Waits for the task to end, then cleans up (cgroup, work directory) and returns what happened.
    /// Every caller gets the same outcome. The timeout clock starts at the first call.
    public func wait() async -> TaskOutcome {
        if let completion { return await completion.value }
        let supervision = Task { await self.supervise() }
        completion = supervision
        return await supervision.value
    }

    /// SIGTERM now, the cgroup kill after the grace period.
    public func stop() { perform(lifecycle.handle(.stopRequested)) }

    /// Kills every process of the task at once.
    public func kill() { perform(lifecycle.handle(.killRequested)) }

    /// Sends a signal to PID 1, which forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the task.
    /// Does nothing once PID 1 has exited: its pidfd is closed soon after, and the number may then name
    /// another task's pidfd.
    public func signal(_ number: Int32) {
        if case .exited = lifecycle.state { return }
        _ = corral_pidfd_signal(pidfd, number)
    }

    /// A duplicate of PID 1's pidfd while it runs (the caller closes it), nil once it has exited: the
    /// original's number may name another task's pidfd after that.
    func duplicatePIDFD() -> Int32? {
        if case .exited = lifecycle.state { return nil }
        let copy = fcntl(pidfd, F_DUPFD_CLOEXEC, 3)
        return copy >= 0 ? copy : nil
    }

    /// Current usage, read from the cgroup.
    public nonisolated func stats(_ detail: Cgroup.Detail = .full) -> CgroupStats { cgroup.stats(detail) }

    /// CPU time, memory in use, I/O bytes and pids, through descriptors kept open between samples (what a
    /// supervisor of many tasks calls every interval; `stats(.usage)` without the cached descriptors).
    public nonisolated func sampleUsage() -> CgroupStats { usageReader.sample() }

    public var state: TaskLifecycle.State { lifecycle.state }

    private func supervise() async -> TaskOutcome {
        if let timeout {
            timers.append(
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { await self?.deliver(.timeout) }
                })
        }
        let pid1 = await waitForPID1()
        let actions = lifecycle.handle(.exited(pid1))
        perform(actions)
        return await collect(pid1: pid1)
    }

    /// PID 1's own end. An adopted PID 1 was reaped by init; its pidfd still turns readable when it
    /// exits, and what it wrote to the status file is the task's status.
    private func waitForPID1() async -> ExitStatus {
        var code: Int32 = 0
        var value: Int32 = 0
        var rc: Int32 = 0
        repeat {
            rc = adopted ? -ECHILD : corral_pidfd_reap(pidfd, &code, &value)
            if rc == 0 { await DescriptorWaiter.shared.wait(for: pidfd) }
        } while rc == 0
        guard rc > 0 else {
            await DescriptorWaiter.shared.wait(for: pidfd)
            return .signaled(SIGKILL)  // what PID 1 died of when it wrote no status: only SIGKILL stops it
        }
        return code == CLD_EXITED ? .exited(value) : .signaled(value)
    }

    private func deliver(_ event: TaskLifecycle.Event) { perform(lifecycle.handle(event)) }

    private func perform(_ actions: [TaskLifecycle.Action]) {
        for action in actions {
            switch action {
            case .signalTerminate:
                logger.debug("sending SIGTERM")
                signal(SIGTERM)
            case .startGraceTimer:
                let grace = grace
                timers.append(
                    Task { [weak self] in
                        try? await Task.sleep(for: grace)
                        if !Task.isCancelled { await self?.deliver(.graceExpired) }
                    })
            case .killCgroup:
                logger.debug("killing the cgroup")
                let cgroup = cgroup
                let logger = logger
                Task {
                    do { try await cgroup.kill() } catch {
                        logger.error("cgroup kill failed", metadata: ["error": "\(error)"])
                    }
                }
            case .cancelTimers:
                for timer in timers { timer.cancel() }
                timers.removeAll()
            case .collect:
                break  // supervise() collects right after
            }
        }
    }

    /// After PID 1 is gone: the task's status, stragglers killed, statistics, cgroup and work dir removed.
    private func collect(pid1: ExitStatus) async -> TaskOutcome {
        let duration = ContinuousClock.now - startedAt
        let taskStatus = status.read() ?? pid1
        usageReader.close()
        let stats = await Sandbox.tearDown(cgroup: cgroup, work: work, lease: lease, logger: logger)
        close(pidfd)
        status.closeReadEnd()
        var outcome = TaskOutcome(status: taskStatus, stats: stats, timedOut: lifecycle.timedOut)
        outcome.durationMs = duration.inMilliseconds
        return outcome
    }
}
