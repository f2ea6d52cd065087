import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension Cgroup {
    /// One of the four files behind `stats(.usage)` (CPU time, memory in use, I/O bytes, pids), whichever
    /// tree has it on this host, and how its content goes into `CgroupStats`.
    public struct UsageFile: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case cpuStat, cpuacctNanoseconds, memory, ioStat, blkioBytes, pids }
        public var path: String
        public var kind: Kind

        func apply(_ text: String, to stats: inout CgroupStats) {
            switch kind {
            case .cpuStat:
                (stats.cpuUsageUsec, stats.cpuUserUsec, stats.cpuSystemUsec) = CgroupFormat.cpuTimes(text)
            case .cpuacctNanoseconds: stats.cpuUsageUsec = (CgroupFormat.number(text) ?? 0) / 1000
            case .memory: stats.memoryCurrentBytes = CgroupFormat.number(text) ?? 0
            case .ioStat:
                (stats.ioReadBytes, stats.ioWriteBytes, stats.ioReadOps, stats.ioWriteOps) = CgroupFormat.ioStat(text)
            case .blkioBytes: (stats.ioReadBytes, stats.ioWriteBytes) = CgroupFormat.blkio(text)
            case .pids: stats.pidsCurrent = CgroupFormat.number(text) ?? 0
            }
        }
    }

    /// cpu.stat from the unified tree when there is one (cpuacct on pure v1); memory, I/O and pids from
    /// v2 on a unified host, from v1 otherwise.
    public var usageFiles: [UsageFile] {
        var files: [UsageFile] = []
        if let dir = unifiedPath {
            files.append(UsageFile(path: dir + "/cpu.stat", kind: .cpuStat))
        } else if let dir = legacyPaths["cpuacct"] {
            files.append(UsageFile(path: dir + "/cpuacct.usage", kind: .cpuacctNanoseconds))
        }
        if host.mode == .unified, let dir = unifiedPath {
            files.append(UsageFile(path: dir + "/memory.current", kind: .memory))
            files.append(UsageFile(path: dir + "/io.stat", kind: .ioStat))
            files.append(UsageFile(path: dir + "/pids.current", kind: .pids))
        } else {
            if let dir = legacyPaths["memory"] {
                files.append(UsageFile(path: dir + "/memory.usage_in_bytes", kind: .memory))
            }
            if let dir = legacyPaths["blkio"] {
                files.append(UsageFile(path: dir + "/blkio.throttle.io_service_bytes_recursive", kind: .blkioBytes))
            }
            if let dir = legacyPaths["pids"] { files.append(UsageFile(path: dir + "/pids.current", kind: .pids)) }
        }
        return files
    }

    /// `stats(.usage)`: each usage file opened, read and closed.
    func usage() -> CgroupStats {
        var stats = CgroupStats()
        for file in usageFiles {
            if let text = FileIO.readIfPresent(file.path) { file.apply(text, to: &stats) }
        }
        return stats
    }
}

/// Samples one cgroup's usage (the figures of `Cgroup.stats(.usage)`) through descriptors opened on the
/// first sample and kept: a supervisor sampling hundreds of tasks every second otherwise spends most of
/// that time resolving paths in cgroupfs. A read at offset 0 makes the kernel produce the file anew.
public final class CgroupUsageReader: Sendable {
    private let files: [Cgroup.UsageFile]
    /// nil until the first sample; -1 for a file that could not be opened; empty once closed.
    private let descriptors = Mutex<[Int32]?>(nil)

    public init(_ cgroup: Cgroup) { files = cgroup.usageFiles }

    public func sample() -> CgroupStats {
        descriptors.withLock { fds in
            if fds == nil { fds = files.map { open($0.path, O_RDONLY | O_CLOEXEC) } }
            var stats = CgroupStats()
            for (file, fd) in zip(files, fds ?? []) where fd >= 0 {
                if let text = FileIO.readAtStart(fd) { file.apply(text, to: &stats) }
            }
            return stats
        }
    }

    /// Closes the descriptors; a later sample returns zeros.
    public func close() {
        descriptors.withLock { fds in
            for fd in fds ?? [] where fd >= 0 { Glibc.close(fd) }
            fds = []
        }
    }

    deinit { close() }
}
