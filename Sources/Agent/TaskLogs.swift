import Cgroups
import CorralProtocol
import Foundation
import SystemSupport

/// A task's stdout and stderr: `<logs>/<allocation>/stdout` and `stderr`, opened for appending and
/// handed to the task. Each is kept below a size limit: when a file passes it, its content moves to
/// `<name>.1` (replacing the previous one) and the file is truncated; the task keeps appending to it.
///
/// Readers address a stream by its position since the task started, not by a file offset: `<name>.rotated`
/// holds how many bytes all rotations moved out so far (`base`), so `<name>.1` holds the positions just
/// below `base` and the file itself those from `base` on. A follower that has not read a burst before it
/// is rotated still gets it from `<name>.1`.
struct TaskLogs: Sendable {
    static let streams = ["stdout", "stderr"]
    let directory: String

    init(root: String, allocation: AllocationID) {
        directory = root + "/\(allocation)"
    }

    func path(_ stream: String) -> String { directory + "/" + stream }

    /// Opens both files for the task. The agent keeps its descriptors while the task runs: their end
    /// offsets give the sizes `enforce` checks every heartbeat without a path lookup.
    func open() throws -> OpenLogs {
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
        return OpenLogs(stdout: fds[0], stderr: fds[1])
    }

    /// Rotates any stream past `limit` bytes; sizes come from `open`'s descriptors when given.
    func enforce(limit: UInt64, open: OpenLogs? = nil) {
        for (index, stream) in Self.streams.enumerated() {
            let file = path(stream)
            let size = open.map { OpenLogs.size(index == 0 ? $0.stdout : $0.stderr) } ?? Self.size(file)
            guard size > limit else { continue }
            let rotated = file + ".1"
            // The task's descriptor stays on `file` (O_APPEND): copy the content out, then truncate.
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let base = self.base(stream)
            unlink(rotated)
            _ = FileManager.default.createFile(atPath: rotated, contents: data, attributes: [.posixPermissions: 0o640])
            truncate(file, 0)
            // Last, so that a reader that saw the old base before and the new one after knows to read again.
            _ = FileManager.default.createFile(
                atPath: file + ".rotated", contents: Data(String(base + UInt64(data.count)).utf8),
                attributes: [.posixPermissions: 0o640])
        }
    }

    /// Bytes of `stream` rotated out so far: the position the current file starts at.
    func base(_ stream: String) -> UInt64 {
        FileIO.readIfPresent(path(stream) + ".rotated").flatMap { UInt64($0) } ?? 0
    }

    /// Up to `limit` bytes of `stream` from position `offset` on, and the position to ask for next.
    /// Positions before the current file are read from `<stream>.1`; what was rotated out twice before the
    /// reader got to it is gone, and the answer then starts at the oldest byte kept.
    func read(_ stream: String, from offset: UInt64, limit: Int = 1 << 20) -> (bytes: [UInt8], next: UInt64) {
        var answer: (bytes: [UInt8], next: UInt64) = ([], offset)
        for _ in 0..<3 {
            let base = self.base(stream)
            answer = Self.read(path(stream), base: base, from: offset, limit: limit)
            if self.base(stream) == base { break }  // no rotation while reading
        }
        return answer
    }

    static func read(_ file: String, base: UInt64, from offset: UInt64, limit: Int) -> (bytes: [UInt8], next: UInt64) {
        if offset >= base {
            let current = slice(file, from: offset - base, limit: limit)
            return (current.bytes, offset + UInt64(current.bytes.count))
        }
        let start = base - min(size(file + ".1"), base)  // the position of `.1`'s first byte
        let from = max(offset, start)
        let rotated = slice(file + ".1", from: from - start, limit: limit)
        return (rotated.bytes, from + UInt64(rotated.bytes.count))
    }

    /// A file's size through its end offset (checked for every task each heartbeat: three cheap syscalls,
    /// where FileManager builds a dictionary of attributes).
    static func size(_ path: String) -> UInt64 {
        let fd = Foundation.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        return OpenLogs.size(fd)
    }

    /// Up to `limit` bytes of a file from `offset`, and the file's size (0 for a missing file).
    static func slice(_ path: String, from offset: UInt64, limit: Int) -> (bytes: [UInt8], size: UInt64) {
        let fd = Foundation.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return ([], 0) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        guard offset < size, (try? handle.seek(toOffset: offset)) != nil else { return ([], size) }
        let data = (try? handle.read(upToCount: limit)) ?? nil
        return (data.map { [UInt8]($0) } ?? [], size)
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

/// A task's stdout and stderr as the agent opened them (append-only), closed when the value goes away.
final class OpenLogs: Sendable {
    let stdout: Int32
    let stderr: Int32

    init(stdout: Int32, stderr: Int32) {
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The file's size, from fstat: lseek(SEEK_END) would take the file's position lock, which the
    /// task writing to the same open file contends for (hundreds of tasks, every sample).
    static func size(_ fd: Int32) -> UInt64 { FileIO.size(fd) ?? 0 }

    var largestSize: UInt64 { max(Self.size(stdout), Self.size(stderr)) }

    deinit {
        close(stdout)
        close(stderr)
    }
}
