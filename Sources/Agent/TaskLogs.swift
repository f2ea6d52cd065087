import Foundation

/// A task's stdout and stderr: `<logs>/<allocation>/stdout` and `stderr`, opened for appending and
/// handed to the task. Each is kept below a size limit: when a file passes it, its content moves to
/// `<name>.1` (replacing the previous one) and the file is truncated; the task keeps appending to it.
struct TaskLogs: Sendable {
    static let streams = ["stdout", "stderr"]
    let directory: String

    init(root: String, allocation: String) {
        directory = root + "/" + allocation
    }

    func path(_ stream: String) -> String { directory + "/" + stream }

    /// Opens both files; the caller closes the descriptors once the task holds its own copies.
    func open() throws -> (stdout: Int32, stderr: Int32) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var fds: [Int32] = []
        for stream in Self.streams {
            let fd = Foundation.open(path(stream), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                let err = errno
                for open in fds { close(open) }
                throw AgentError.io("cannot open \(path(stream))", errno: err)
            }
            fds.append(fd)
        }
        return (fds[0], fds[1])
    }

    /// Rotates any stream past `limit` bytes.
    func enforce(limit: UInt64) {
        for stream in Self.streams {
            let file = path(stream)
            let size =
                ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.uint64Value ?? 0
            guard size > limit else { continue }
            let rotated = file + ".1"
            // The task's descriptor stays on `file` (O_APPEND): copy the content out, then truncate.
            unlink(rotated)
            if let data = FileManager.default.contents(atPath: file) {
                _ = FileManager.default.createFile(
                    atPath: rotated, contents: data, attributes: [.posixPermissions: 0o640])
            }
            truncate(file, 0)
        }
    }

    /// Removes log directories older than `age` seconds.
    static func prune(root: String, olderThan age: Double) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let cutoff = Date().timeIntervalSince1970 - age
        for name in names {
            let dir = root + "/" + name
            let modified = (try? FileManager.default.attributesOfItem(atPath: dir))?[.modificationDate] as? Date
            guard let modified, modified.timeIntervalSince1970 < cutoff else { continue }
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}
