import Synchronization
import SystemSupport

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
///
/// The CPU-time counter is read first, into a buffer on the stack, and compared byte for byte with the
/// last read. When it has not changed, no process of the cgroup has run: memory in use, I/O and pids
/// are taken from the last full read (the kernel's own work, such as reclaim, can still move memory a
/// little), which is redone at least every `fullReadEvery` samples. Most tasks on a busy node sleep most of the time; for them a sample is
/// one read instead of four.
public final class CgroupUsageReader: Sendable {
    public static let fullReadEvery = 10

    private let files: [Cgroup.UsageFile]
    private let cpuFile: Int?

    private struct State {
        /// nil until the first sample; -1 for a file that could not be opened; empty once closed.
        var descriptors: [Int32]?
        var last: CgroupStats?
        /// The CPU file's bytes at the last read.
        var lastCPU: [UInt8] = []
        var sinceFullRead = 0
    }
    /// Larger than any cpu.stat or cpuacct.usage: a file that fills it is parsed the long way.
    private static let cpuBufferSize = 1024
    private let state = Mutex(State())

    public init(_ cgroup: Cgroup) {
        files = cgroup.usageFiles
        cpuFile = files.firstIndex { $0.kind == .cpuStat || $0.kind == .cpuacctNanoseconds }
    }

    public func sample() -> CgroupStats {
        state.withLock { state in
            if state.descriptors == nil { state.descriptors = files.map { open($0.path, O_RDONLY | O_CLOEXEC) } }
            let fds = state.descriptors ?? []
            func read(_ index: Int, into stats: inout CgroupStats) {
                guard index < fds.count, fds[index] >= 0, let text = FileIO.readAtStart(fds[index]) else { return }
                files[index].apply(text, to: &stats)
            }
            var stats = CgroupStats()
            if let cpuFile, cpuFile < fds.count, fds[cpuFile] >= 0 {
                let unchanged = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.cpuBufferSize) {
                    buffer -> Bool in
                    let n = pread(fds[cpuFile], buffer.baseAddress, buffer.count, 0)
                    guard n > 0, n < buffer.count else {
                        read(cpuFile, into: &stats)
                        state.lastCPU = []
                        return false
                    }
                    let bytes = UnsafeBufferPointer(rebasing: buffer[0..<n])
                    if state.last != nil, bytes.elementsEqual(state.lastCPU) { return true }
                    state.lastCPU = Array(bytes)
                    files[cpuFile].apply(String(decoding: bytes, as: UTF8.self), to: &stats)
                    return false
                }
                if unchanged, let last = state.last {
                    if state.sinceFullRead + 1 < Self.fullReadEvery {
                        state.sinceFullRead += 1
                        return last
                    }
                    stats.cpuUsageUsec = last.cpuUsageUsec
                    stats.cpuUserUsec = last.cpuUserUsec
                    stats.cpuSystemUsec = last.cpuSystemUsec
                }
            }
            for index in files.indices where index != cpuFile { read(index, into: &stats) }
            state.last = stats
            state.sinceFullRead = 0
            return stats
        }
    }

    /// Closes the descriptors; a later sample returns zeros.
    public func close() {
        state.withLock { state in
            for fd in state.descriptors ?? [] where fd >= 0 { Glibc.close(fd) }
            state.descriptors = []
            state.last = nil
            state.lastCPU = []
        }
    }

    deinit { close() }
}
