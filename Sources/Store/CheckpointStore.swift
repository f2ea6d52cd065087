import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The latest checkpoint of each task, one file per task in a directory of the scheduler's own (its data
/// directory's `checkpoints/`), written whole (a temporary file, fsync, rename) so that a crash leaves the
/// old one or the new one. Bounded in all by `maxBytes`: an upload that would pass it is refused, and the
/// task keeps its previous checkpoint. Names are the caller's (`<job>.<index>`), checked to be plain.
public final class CheckpointStore: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case full(used: UInt64, max: UInt64)
        case io(String, errno: Int32)

        public var description: String {
            switch self {
            case .full(let used, let max):
                "the scheduler's checkpoint space is full (\(used) of \(max) bytes used: checkpointBytesMax)"
            case .io(let what, let errno): "\(what): \(String(cString: strerror(errno))) (errno \(errno))"
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var bytes: UInt64
        /// Seconds since the Unix epoch.
        public var modified: Double
    }

    let directory: String
    public let maxBytes: UInt64
    /// Each checkpoint's size, for the bound.
    private let sizes: Mutex<[String: UInt64]>

    public init(directory: String, maxBytes: UInt64) throws(Failure) {
        self.directory = directory
        self.maxBytes = maxBytes
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw .io("cannot make \(directory)", errno: errno)
        }
        var found: [String: UInt64] = [:]
        for entry in try Self.entries(directory) where !entry.name.hasPrefix(".") { found[entry.name] = entry.bytes }
        sizes = Mutex(found)
    }

    public var usedBytes: UInt64 { sizes.withLock { $0.values.reduce(0, +) } }

    /// Keeps `bytes` as checkpoint `name`; `modified`: the time it carries (a copy keeps the leader's).
    public func put(_ name: String, _ bytes: [UInt8], modified: Double? = nil) throws(Failure) {
        precondition(Self.isPlain(name), "checkpoint names are the scheduler's own")
        try sizes.withLock { (sizes: inout [String: UInt64]) throws(Failure) in
            let used = sizes.values.reduce(0, +) - (sizes[name] ?? 0)
            guard used + UInt64(bytes.count) <= maxBytes else { throw .full(used: used, max: maxBytes) }
            try write(name, bytes, modified: modified)
            sizes[name] = UInt64(bytes.count)
        }
    }

    public func get(_ name: String) -> [UInt8]? {
        guard Self.isPlain(name) else { return nil }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        defer { close(dir) }
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var at = 0
        while at < bytes.count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + at, $0.count - at, off_t(at)) }
            guard got > 0 else { return nil }
            at += got
        }
        return bytes
    }

    /// Removes every checkpoint whose name starts with `prefix` (a job's: `<job>.`).
    public func remove(prefix: String) { remove { $0.hasPrefix(prefix) } }

    /// Removes one checkpoint.
    public func remove(_ name: String) { remove { $0 == name } }

    private func remove(where matches: (String) -> Bool) {
        sizes.withLock { sizes in
            let dir = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard dir >= 0 else { return }
            defer { close(dir) }
            for name in sizes.keys where matches(name) {
                unlinkat(dir, name, 0)
                sizes[name] = nil
            }
        }
    }

    /// Every checkpoint held, for a follower's copy.
    public func list() throws(Failure) -> [Entry] {
        try Self.entries(directory).filter { !$0.name.hasPrefix(".") }
    }

    private func write(_ name: String, _ bytes: [UInt8], modified: Double?) throws(Failure) {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { throw .io("cannot open \(directory)", errno: errno) }
        defer { close(dir) }
        let temporary = ".\(name).\(UInt32.random(in: 0...UInt32.max))"
        let fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create a checkpoint in \(directory)", errno: errno) }
        var at = 0
        while at < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + at, $0.count - at) }
            guard n > 0 else {
                let err = errno
                close(fd)
                unlinkat(dir, temporary, 0)
                throw .io("cannot write a checkpoint", errno: err)
            }
            at += n
        }
        if let modified {
            let seconds = modified.rounded(.down)
            let time = timespec(tv_sec: Int(seconds), tv_nsec: Int((modified - seconds) * 1e9))
            var times = [time, time]
            _ = futimens(fd, &times)
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, renameat(dir, temporary, dir, name) == 0 else {
            let err = errno
            unlinkat(dir, temporary, 0)
            throw .io("cannot store a checkpoint", errno: err)
        }
        _ = fsync(dir)
    }

    static func entries(_ directory: String) throws(Failure) -> [Entry] {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0, let stream = fdopendir(dir) else { throw .io("cannot list \(directory)", errno: errno) }
        defer { closedir(stream) }
        var found: [Entry] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            var st = stat()
            guard name != ".", name != "..", fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0,
                (st.st_mode & S_IFMT) == S_IFREG
            else { continue }
            found.append(
                Entry(
                    name: name, bytes: UInt64(st.st_size),
                    modified: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9))
        }
        return found.sorted { $0.name < $1.name }
    }

    /// Letters, digits, `.`, `_` and `-`, not starting with a dot.
    public static func isPlain(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 200 && !name.hasPrefix(".")
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E
                    || b == 0x5F || b == 0x2D
            }
    }
}
