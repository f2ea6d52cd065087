import Cgroups
import CorralProtocol
import Foundation
import SystemSupport

/// A task's stdout and stderr: `<logs>/<allocation>/stdout` and `stderr`, opened for appending and
/// handed to the task. Each holds at most about its limit of the stream's latest bytes: a `LogTrimmer`
/// punches the older ones out as the task writes (see there), so a task writing as fast as it can stays
/// within bound and the agent never reads a log to bound it. A byte's offset in the file is its position in
/// the stream since the task started; the first one still held is where the file's data starts.
struct TaskLogs: Sendable {
    static let streams = ["stdout", "stderr"]
    let directory: String

    init(root: String, allocation: AllocationID) {
        directory = root + "/\(allocation)"
    }

    func path(_ stream: String) -> String { directory + "/" + stream }

    /// Opens both files for the task (or, for an adopted task, again for the agent), watched by `trimmer`.
    /// The agent keeps its descriptors while the task runs.
    func open(trimmer: LogTrimmer?) throws -> OpenLogs {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var fds: [Int32] = []
        for stream in Self.streams {
            let fd = Foundation.open(path(stream), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                let err = errno
                for open in fds { close(open) }
                throw AgentError.io("cannot open \(path(stream))", errno: err)
            }
            fds.append(fd)
        }
        let watches = trimmer.map { trimmer in
            zip(Self.streams, fds).compactMap { stream, fd in trimmer.watch(path: path(stream), fd: fd) }
        }
        return OpenLogs(stdout: fds[0], stderr: fds[1], trimmer: trimmer, watches: watches ?? [])
    }

    /// Up to `limit` bytes of `stream` from position `offset` on, and the position to ask for next. What
    /// was trimmed before the reader got to it is gone: the answer then starts at the oldest byte held.
    func read(_ stream: String, from offset: UInt64, limit: Int = 1 << 20) -> (bytes: [UInt8], next: UInt64) {
        let fd = Foundation.open(path(stream), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return ([], offset) }
        defer { close(fd) }
        let size = FileIO.size(fd) ?? 0
        let from = max(offset, LogTrimmer.firstData(fd))
        guard from < size else { return ([], max(offset, min(from, size))) }
        let count = Int(min(UInt64(limit), size - from))
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(from)) }
        guard n > 0 else { return ([], from) }
        return (Array(bytes[0..<n]), from + UInt64(n))
    }

    /// Task logs are bounded by punching out their oldest bytes: a data directory on a filesystem that cannot
    /// (ext4, xfs, btrfs and tmpfs can) is refused at start rather than let logs grow without bound.
    static func checkHolePunching(in directory: String) throws {
        let probe = directory + "/.punch-probe"
        unlink(probe)
        let fd = Foundation.open(probe, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AgentError.io("cannot create \(probe)", errno: errno) }
        defer {
            close(fd)
            unlink(probe)
        }
        let block = [UInt8](repeating: 1, count: 8192)
        var start: UInt64 = 0
        guard block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == 8192,
            LogTrimmer.trim(fd, start: &start, keep: 1024), LogTrimmer.firstData(fd) == 4096
        else {
            throw AgentError.configuration(
                "--data-dir: the filesystem of \(directory) cannot punch holes (fallocate FALLOC_FL_PUNCH_HOLE), "
                    + "so task logs could not be kept in bound: use ext4, xfs, btrfs or tmpfs")
        }
    }

    var exists: Bool { FileManager.default.fileExists(atPath: directory) }

    /// Removes log directories older than `age` seconds.
    static func prune(root: String, olderThan age: Double) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let cutoff = Date().timeIntervalSince1970 - age
        for name in names {
            let dir = root + "/" + name
            let modified = (try? FileManager.default.attributesOfItem(atPath: dir))?[.modificationDate] as? Date
            guard let modified, modified.timeIntervalSince1970 < cutoff else { continue }
            try? FileIO.removeTree(dir)
        }
    }
}

/// A task's stdout and stderr as the agent opened them (append-only), unwatched and closed when the value
/// goes away.
final class OpenLogs: Sendable {
    let stdout: Int32
    let stderr: Int32
    let trimmer: LogTrimmer?
    /// The trimmer's watches; fewer than two when inotify watches ran out, and the agent then trims these
    /// files itself on each sample (`needsTrimming`).
    let watches: [Int32]

    init(stdout: Int32, stderr: Int32, trimmer: LogTrimmer?, watches: [Int32]) {
        self.stdout = stdout
        self.stderr = stderr
        self.trimmer = trimmer
        self.watches = watches
    }

    var needsTrimming: Bool { watches.count < 2 }

    /// Trims both files now (for files the trimmer does not watch).
    func trim(keep: UInt64) {
        for fd in [stdout, stderr] {
            var start = LogTrimmer.firstData(fd)
            LogTrimmer.trim(fd, start: &start, keep: keep)
        }
    }

    deinit {
        for wd in watches { trimmer?.unwatch(wd) }
        close(stdout)
        close(stderr)
    }
}
