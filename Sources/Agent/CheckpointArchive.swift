import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A task's checkpoint directory as one byte string, and back. Read and written as root by descriptor
/// only: every component opened with O_NOFOLLOW relative to the one before, symbolic links and special
/// files left out, so nothing the task made leads outside its directory. The format: `CORRALCK1\n`, then
/// per entry a kind byte (`d` or `f`), the path's length (2 bytes) and the path, the mode (2 bytes), and
/// for a file its size (8 bytes) and contents; big-endian.
enum CheckpointArchive {
    static let magic = Array("CORRALCK1\n".utf8)
    static let maxEntries = 100_000
    static let maxDepth = 32

    enum Failure: Error, Equatable, CustomStringConvertible {
        case tooLarge(UInt64, limit: UInt64)
        case unreadable(String)
        case malformed(String)

        var description: String {
            switch self {
            case .tooLarge(let size, let limit):
                "the checkpoint directory holds \(size) bytes or more, over the job's checkpointLimit of \(limit)"
            case .unreadable(let why): why
            case .malformed(let why): "the checkpoint is malformed: \(why)"
            }
        }
    }

    /// What the directory holds, cheaply (paths, sizes, modification times): equal listings mean an equal
    /// archive, so an unchanged directory is not read again.
    static func listing(of directory: Int32) -> [String] {
        var lines: [String] = []
        walk(directory, prefix: "", depth: 0) { path, meta, _ in
            lines.append("\(path)\u{0}\(meta.kind == .directory ? "d" : "f")\u{0}\(meta.size)\u{0}\(meta.modified)")
            return lines.count < maxEntries
        }
        return lines
    }

    /// The directory's files and subdirectories, at most `limit` bytes of archive.
    static func pack(_ directory: Int32, limit: UInt64) throws(Failure) -> [UInt8] {
        var out = magic
        var failure: Failure?
        var count = 0
        walk(directory, prefix: "", depth: 0) { path, meta, parent in
            count += 1
            let name = String(path.split(separator: "/").last ?? "")
            let header = 1 + 2 + path.utf8.count + 2 + (meta.kind == .file ? 8 : 0)
            guard UInt64(out.count + header) + (meta.kind == .file ? meta.size : 0) <= limit else {
                failure = .tooLarge(UInt64(out.count + header) + meta.size, limit: limit)
                return false
            }
            out.append(meta.kind == .directory ? UInt8(ascii: "d") : UInt8(ascii: "f"))
            append(UInt64(path.utf8.count), bytes: 2, to: &out)
            out += Array(path.utf8)
            append(UInt64(meta.mode & 0o7777), bytes: 2, to: &out)
            guard meta.kind == .file else { return count < maxEntries }
            let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                failure = .unreadable("cannot open \(path) in the checkpoint directory (errno \(errno))")
                return false
            }
            defer { close(fd) }
            let sizeAt = out.count
            append(0, bytes: 8, to: &out)
            var total: UInt64 = 0
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if got < 0 {
                    failure = .unreadable("cannot read \(path) in the checkpoint directory (errno \(errno))")
                    return false
                }
                if got == 0 { break }
                total += UInt64(got)
                // The file may grow while it is read: the limit holds for what is read.
                guard UInt64(out.count + got) <= limit else {
                    failure = .tooLarge(UInt64(out.count + got), limit: limit)
                    return false
                }
                out += buffer[..<got]
            }
            for index in 0..<8 { out[sizeAt + index] = UInt8((total >> (8 * (7 - UInt64(index)))) & 0xff) }
            return count < maxEntries
        }
        if let failure { throw failure }
        return out
    }

    /// Writes an archive's entries into `directory` (empty, made for a task that has not started),
    /// owned by `uid`:`gid`.
    static func unpack(_ bytes: [UInt8], into directory: Int32, uid: UInt32, gid: UInt32) throws(Failure) {
        guard bytes.starts(with: magic) else { throw .malformed("no CORRALCK1 header") }
        var at = magic.count
        func take(_ n: Int) throws(Failure) -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - at >= n else { throw .malformed("cut short at byte \(at)") }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        func number(_ n: Int) throws(Failure) -> UInt64 { try take(n).reduce(0) { $0 << 8 | UInt64($1) } }
        var entries = 0
        while at < bytes.count {
            entries += 1
            guard entries <= maxEntries else { throw .malformed("more than \(maxEntries) entries") }
            let kind = try take(1).first!
            let path = String(decoding: try take(Int(try number(2))), as: UTF8.self)
            let mode = mode_t(try number(2) & 0o777)
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard !parts.isEmpty, parts.count <= maxDepth,
                parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.utf8.contains(0) })
            else { throw .malformed("the path \(path) leaves the directory") }
            var parent = dup(directory)
            defer { close(parent) }
            for part in parts.dropLast() {
                let next = openat(parent, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { throw .malformed("\(path): its directory \(part) comes after it") }
                close(parent)
                parent = next
            }
            let name = parts.last!
            switch kind {
            case UInt8(ascii: "d"):
                guard mkdirat(parent, name, mode | 0o700) == 0 || errno == EEXIST,
                    fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0
                else { throw .unreadable("cannot make \(path) (errno \(errno))") }
            case UInt8(ascii: "f"):
                // The size comes from an archive another node made: checked, never trusted to convert.
                guard let size = Int(exactly: try number(8)) else { throw .malformed("\(path): a size past any file") }
                let data = try take(size)
                let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode | 0o600)
                guard fd >= 0 else { throw .unreadable("cannot create \(path) (errno \(errno))") }
                defer { close(fd) }
                var written = 0
                while written < data.count {
                    let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + written, data.count - written) }
                    guard n > 0 else { throw .unreadable("cannot write \(path) (errno \(errno))") }
                    written += n
                }
                guard fchown(fd, uid, gid) == 0 else { throw .unreadable("cannot give \(path) away (errno \(errno))") }
            default:
                throw .malformed("unknown entry kind \(kind)")
            }
        }
    }

    static func append(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for index in (0..<bytes).reversed() { out.append(UInt8((value >> (8 * UInt64(index))) & 0xff)) }
    }

    /// Visits every directory and regular file under `directory` (by descriptor, links not followed),
    /// parents before children, in name order; `visit` gets the relative path, its metadata and its
    /// parent's descriptor, and returns false to stop.
    @discardableResult
    static func walk(
        _ directory: Int32, prefix: String, depth: Int, _ visit: (String, FileMetadata, Int32) -> Bool
    ) -> Bool {
        guard depth < maxDepth else { return true }
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else { return true }
        defer { closedir(stream) }
        // A duplicate shares the original's position: a directory listed before would read as empty.
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
            if names.count > maxEntries { break }
        }
        for name in names.sorted() {
            guard let meta = FileMetadata.of(name, in: directory), meta.kind == .file || meta.kind == .directory else {
                continue
            }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            guard visit(path, meta, directory) else { return false }
            if meta.kind == .directory {
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { continue }
                defer { close(child) }
                guard walk(child, prefix: path, depth: depth + 1, visit) else { return false }
            }
        }
        return true
    }
}
