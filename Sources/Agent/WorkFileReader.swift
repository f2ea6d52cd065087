import CorralProtocol
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Reads inside a task's work directory by descriptor: each component opened with O_NOFOLLOW relative to
/// the one before, so neither `..` nor a symlink the task made leads anywhere outside it. Special files
/// (FIFOs, sockets, devices) are refused, not opened for reading.
struct WorkFileReader {
    enum Result {
        case directory([FileListing.Entry])
        case file(bytes: [UInt8], size: UInt64, next: UInt64)
    }

    let root: String

    func read(_ path: String, offset: UInt64, limit: Int) throws(APIError) -> Result {
        guard let parts = WorkFiles.components(path) else {
            throw APIError.badRequest("path: \"\(path)\" leaves the work directory")
        }
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw APIError.notFound("the work directory (removed after its retention)") }
        defer { close(fd) }
        for (index, part) in parts.enumerated() {
            let last = index == parts.count - 1
            let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (last ? 0 : O_DIRECTORY)
            let next = openat(fd, part, flags)
            guard next >= 0 else { throw Self.refusal(errno, path: path) }
            close(fd)
            fd = next
        }
        guard let st = FileMetadata.of(fd) else { throw Self.refusal(errno, path: path) }
        switch st.kind {
        case .directory: return .directory(try Self.list(fd))
        case .file:
            let size = st.size
            let start = min(offset, size)
            let count = Int(min(UInt64(limit), size - start))
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(start)) }
            guard got >= 0 else { throw Self.refusal(errno, path: path) }
            bytes.removeLast(count - got)
            return .file(bytes: bytes, size: size, next: start + UInt64(got))
        default:
            throw APIError.badRequest("path: \"\(path)\" is not a regular file or a directory")
        }
    }

    static func list(_ fd: Int32) throws(APIError) -> [FileListing.Entry] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            throw APIError(status: 500, code: "internal", message: "cannot list a directory (errno \(errno))")
        }
        defer { closedir(dir) }
        var entries: [FileListing.Entry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            guard let st = FileMetadata.of(name, in: fd) else { continue }
            let kind: FileListing.Entry.Kind =
                switch st.kind {
                case .file: .file
                case .directory: .directory
                case .symlink: .symlink
                case .other: .other
                }
            entries.append(
                FileListing.Entry(name: name, kind: kind, size: st.size, mode: st.mode, modified: st.modified))
            if entries.count >= 10_000 { break }
        }
        return entries.sorted { $0.name < $1.name }
    }

    static func refusal(_ err: Int32, path: String) -> APIError {
        switch err {
        case ENOENT: APIError.notFound("\(path) in the work directory")
        case ELOOP, ENOTDIR: APIError.badRequest("path: \"\(path)\" goes through a symbolic link or a non-directory")
        case EACCES, EPERM: APIError.forbidden("\(path): permission denied")
        default: APIError(status: 500, code: "internal", message: "\(path): errno \(err)")
        }
    }
}
