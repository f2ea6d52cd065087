import CSandbox
import Cgroups
import CorralModel
import Logging
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What an agent keeps about a running task so that, after its own restart, it can find the task again:
/// PID 1's pid and start time (a recycled pid is not mistaken for it), the cgroup, the work directory and
/// the file PID 1 writes the task's status to.
public struct AdoptionRecord: Sendable, Codable, Equatable {
    public var id: String
    public var pid: Int32
    /// Field 22 of /proc/<pid>/stat: clock ticks after boot.
    public var startTime: UInt64
    public var cgroup: String
    public var unifiedPath: String?
    public var legacyPaths: [String: String]
    public var workDirectory: String
    public var ownsWorkDirectory: Bool
    public var statusFile: String
    /// Seconds since the Unix epoch when the task's timeout ends.
    public var deadline: Double?
    public var killGraceSeconds: Double
    /// The uid leased to the task (nil: an operator-chosen user, or a record of an older agent).
    public var taskUID: UInt32?
    /// Who the task runs as (nil: a record of an older agent), for commands run inside it.
    public var user: UserIdentity?

    init(
        id: String, pid: Int32, startTime: UInt64, cgroup: Cgroup, work: WorkDirectory, statusFile: String,
        deadline: Double?, killGrace: Duration, taskUID: UInt32?, user: UserIdentity?
    ) {
        self.id = id
        self.pid = pid
        self.startTime = startTime
        self.cgroup = cgroup.relativePath
        unifiedPath = cgroup.unifiedPath
        legacyPaths = cgroup.legacyPaths
        workDirectory = work.path
        ownsWorkDirectory = work.owned
        self.statusFile = statusFile
        self.deadline = deadline
        killGraceSeconds = killGrace.inSeconds
        self.taskUID = taskUID
        self.user = user
    }
}

/// A task found again after a restart: still running (supervised from now on), or ended meanwhile.
public enum Adoption: Sendable {
    case running(SandboxedTask)
    case ended(TaskOutcome)
}

extension Sandbox {
    /// Finds the task a record describes. A live PID 1 with the recorded start time is supervised again
    /// (its end is seen through a pidfd; its status read from the status file); otherwise the task ended
    /// while nobody watched, and its outcome is what PID 1 wrote. Either way its cgroup and work directory
    /// are removed once it has ended.
    public func adopt(_ record: AdoptionRecord) async -> Adoption {
        let cgroup = Cgroup(
            host: host, relativePath: record.cgroup, unifiedPath: record.unifiedPath, legacyPaths: record.legacyPaths,
            owned: true)
        let work = WorkDirectory(path: record.workDirectory, owned: record.ownsWorkDirectory)
        let status = StatusChannel(readFD: -1, writeFD: -1, file: record.statusFile)
        let lease = record.taskUID.map { uid in
            identities.adopt(uid, cgroup: record.cgroup)
            return IdentityLease(uid: uid, leases: identities)
        }
        let pidfd = corral_pidfd_open(record.pid)
        if pidfd >= 0, ProcessStartTime.read(record.pid) == record.startTime {
            let now = WallClock.now
            let left = record.deadline.map { Duration.milliseconds(Int64(max(($0 - now) * 1000, 1))) }
            let task = SandboxedTask(
                id: record.id, pid: record.pid, pidfd: pidfd, cgroup: cgroup, status: status, work: work,
                timeout: left, grace: .milliseconds(Int64(record.killGraceSeconds * 1000)), record: record,
                lease: lease, user: record.user, adopted: true, logger: logger)
            return .running(task)
        }
        if pidfd >= 0 { close(pidfd) }
        return .ended(await collectEnded(cgroup: cgroup, work: work, lease: lease, status: status, record: record))
    }

    /// The outcome of a task that ended while no agent ran: its status file, its cgroup's statistics.
    private func collectEnded(
        cgroup: Cgroup, work: WorkDirectory, lease: IdentityLease?, status: StatusChannel, record: AdoptionRecord
    ) async -> TaskOutcome {
        let stats = await Self.tearDown(cgroup: cgroup, work: work, lease: lease, logger: logger)
        // PID 1 wrote nothing: it was killed outright.
        return TaskOutcome(
            status: status.read() ?? .signaled(SIGKILL), stats: stats,
            timedOut: record.deadline.map { WallClock.now >= $0 } ?? false)
    }

    /// After a task's PID 1 is gone: stragglers killed, the final statistics read, the cgroup and the work
    /// directory removed, and only then the task's uid given back. Failures are logged; the statistics are
    /// what could be read. A cgroup that could not be removed keeps its uid leased.
    static func tearDown(
        cgroup: Cgroup, work: WorkDirectory, lease: IdentityLease?, logger: Logger
    ) async -> CgroupStats {
        do { try await cgroup.killRemaining() } catch {
            logger.error("cgroup not empty after kill", metadata: ["error": "\(error)"])
        }
        let stats = cgroup.stats(.summary)
        var removed = true
        do { try await cgroup.remove() } catch {
            removed = false
            logger.error("cgroup removal failed", metadata: ["error": "\(error)"])
        }
        if let error = work.remove() { logger.error("work directory removal failed", metadata: ["error": "\(error)"]) }
        if removed { lease?.release() }
        return stats
    }
}

extension TaskOutcome {
    /// How a task ended (its status, OOM kills, timeout) and what its cgroup says it used.
    init(status: ExitStatus, stats: CgroupStats, timedOut: Bool) {
        self.init(
            exitCode: nil, signal: nil, oomKilled: stats.oomKills > 0, timedOut: timedOut,
            cpuUserUsec: stats.cpuUserUsec, cpuSystemUsec: stats.cpuSystemUsec,
            memoryPeakBytes: stats.memoryPeakBytes ?? stats.memoryCurrentBytes, ioReadBytes: stats.ioReadBytes,
            ioWriteBytes: stats.ioWriteBytes)
        switch status {
        case .exited(let code): exitCode = code
        case .signaled(let number): signal = number
        }
        cpuPressureUsec = stats.cpuPressure?.some?.totalUsec
        memoryPressureUsec = stats.memoryPressure?.some?.totalUsec
        ioPressureUsec = stats.ioPressure?.some?.totalUsec
    }
}

/// A process's start time, which with its pid names it uniquely for the life of the host.
enum ProcessStartTime {
    static func read(_ pid: pid_t) -> UInt64? {
        guard let text = try? FileIO.read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, starttime field 22.
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

/// Seconds since the Unix epoch.
enum WallClock {
    static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
