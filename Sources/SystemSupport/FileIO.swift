#if canImport(Glibc)
    import Glibc
#endif

/// Small, allocation-light file primitives for pseudo-filesystems (cgroupfs, procfs). cgroup files are
/// read and written with one syscall each: their content must arrive in a single write to be accepted.
public enum FileIO {
    /// Reads a whole (small) file. Throws with the path and errno.
    public static func read(_ path: String) throws(SystemError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(.read, path: path, errno: errno) }
        defer { close(fd) }
        // The buffer lives on the stack: sampling reads thousands of these files a second.
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer throws(SystemError) in
            var result = [UInt8]()
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError(.read, path: path, errno: errno)
                }
                if n == 0 { break }
                result.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<n]))
            }
            return String(decoding: result, as: UTF8.self)
        }
    }

    /// Reads an open pseudo-file from its start again (pread at offset 0: cgroupfs and procfs generate the
    /// content anew), or nil on an error (the cgroup is gone). A seq_file read fills the buffer unless the
    /// content ends first, so a short read is the whole file: one syscall per sample.
    public static func readAtStart(_ fd: Int32) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer in
            var result = [UInt8]()
            while true {
                let n = pread(fd, buffer.baseAddress, buffer.count, off_t(result.count))
                if n < 0 {
                    if errno == EINTR { continue }
                    return nil
                }
                result.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { break }
            }
            return String(decoding: result, as: UTF8.self)
        }
    }

    /// Reads a file, or nil when it does not exist or cannot be read (optional kernel features).
    public static func readIfPresent(_ path: String) -> String? {
        try? read(path)
    }

    /// Writes `value` in one write(2) to an existing file (no O_CREAT: cgroup files must already exist).
    public static func write(_ value: String, to path: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(.write, path: path, errno: errno, detail: "value \(value)") }
        defer { close(fd) }
        var bytes = Array(value.utf8)
        let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            throw SystemError(.write, path: path, errno: n < 0 ? errno : EIO, detail: "value \(value)")
        }
    }

    /// Creates a file with content (for state files and tests), replacing it.
    public static func create(_ path: String, contents: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError(.create, path: path, errno: errno) }
        defer { close(fd) }
        var bytes = Array(contents.utf8)
        let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw SystemError(.write, path: path, errno: n < 0 ? errno : EIO) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// mkdir; returns true when this call created it, false when it already existed.
    @discardableResult
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) -> Bool {
        if mkdir(path, mode) == 0 { return true }
        if errno == EEXIST { return false }
        throw SystemError(.create, path: path, errno: errno)
    }

    /// mkdir -p; returns the directories this call created, outermost first.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) -> [String] {
        if exists(path) { return [] }
        var created: [String] = []
        let parts = path.split(separator: "/")
        var current = path.hasPrefix("/") ? "" : "."
        for part in parts {
            current += "/" + part
            if try makeDirectory(current, mode: mode) { created.append(current) }
        }
        return created
    }

    /// Makes `path` (and its parents) a directory of its owner's alone: created 0700, and an existing one
    /// with group or other bits tightened to 0700 (through a descriptor opened with O_NOFOLLOW, so a
    /// symlink in its place is refused, not followed). Returns whether it tightened an existing directory.
    @discardableResult
    public static func makePrivateDirectory(_ path: String) throws(SystemError) -> Bool {
        _ = try makeDirectories(path, mode: 0o700)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(.open, path: path, errno: errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SystemError(.open, path: path, errno: errno) }
        guard status.st_mode & 0o077 != 0 else { return false }
        guard fchmod(fd, 0o700) == 0 else { throw SystemError(.write, path: path, errno: errno) }
        return true
    }

    /// Replaces `path` with `bytes` atomically: a temporary file beside it created with `mode` from the
    /// start (O_CREAT | O_EXCL, fchmod against the umask before anything is written), fsynced, renamed over
    /// it, and the directory fsynced. A secret is never readable by others, not even for a moment.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(SystemError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError(.create, path: temporary, errno: errno) }
        var failure: Int32 = fchmod(fd, mode) == 0 ? 0 : errno
        if failure == 0 {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written != bytes.count { failure = written < 0 ? errno : EIO }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw SystemError(.write, path: path, errno: failure)
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dirFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// An open file's size (fstat), or nil when it cannot be had.
    public static func size(_ fd: Int32) -> UInt64? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return UInt64(max(st.st_size, 0))
    }

    /// Removes a directory tree by descriptor, never following a symlink (`TreeRemoval`); a missing
    /// path is not an error.
    public static func removeTree(_ path: String) throws(SystemError) {
        try TreeRemoval.remove(path)
    }

    /// Removes `name` (a file, a symlink, or a directory tree) in the directory open as `parent`, the same
    /// way; `path` names it in errors. A missing entry is not an error.
    public static func removeTree(named name: String, in parent: Int32, path: String) throws(SystemError) {
        try TreeRemoval.removeEntry(Array(name.utf8CString), in: parent, device: nil, path: path, depth: 0)
    }
}
