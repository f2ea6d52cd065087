#if canImport(Glibc)
    import Glibc
#endif

/// Removes a directory tree by descriptor, as root may remove a tree that a task still writes to: the
/// root is opened with O_NOFOLLOW, every entry is unlinked relative to its parent's descriptor and every
/// subdirectory opened with openat(O_NOFOLLOW | O_DIRECTORY). A directory renamed away and replaced by a
/// symlink during the walk is never followed (the link is unlinked); a directory already opened is
/// emptied wherever it went, and it holds only the tree's own entries. It stays on the root's file system
/// and goes at most `maxDepth` levels deep (each level holds a descriptor).
enum TreeRemoval {
    static let maxDepth = 512

    static func remove(_ path: String) throws(SystemError) {
        let (parentPath, name) = split(path)
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw SystemError(.remove, path: path, errno: errno)
        }
        defer { close(parent) }
        // Most work directories are empty when their task ends: one rmdir, no walk.
        if unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT { return }
        try removeEntry(Array(name.utf8CString), in: parent, device: nil, path: path, depth: 0)
    }

    /// Removes `name` in the directory `parent`: unlinked if it is not a directory, else emptied and removed.
    /// `device` is the root's file system (nil for the root itself, which sets it). Names are the bytes
    /// readdir gave (a task may write any bytes but `/` and NUL; they need not be UTF-8).
    static func removeEntry(
        _ name: [CChar], in parent: Int32, device: dev_t?, path: String, depth: Int
    ) throws(SystemError) {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { throw SystemError(.remove, path: path, errno: errno) }
        if unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT { return }  // an empty directory
        guard depth < maxDepth else {
            throw SystemError(.remove, path: path, errno: ELOOP, detail: "more than \(maxDepth) levels deep")
        }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            // Replaced by a symlink or a file since: that is removed, not followed.
            if errno == ENOTDIR || errno == ELOOP, unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
            if errno == ENOENT { return }
            throw SystemError(.remove, path: path, errno: errno)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError(.remove, path: path, errno: errno) }
        guard st.st_dev == device ?? st.st_dev else {
            throw SystemError(.remove, path: path, errno: EXDEV, detail: "another file system is mounted there")
        }
        for child in try entries(fd, path: path) {
            let shown = path + "/" + String(decoding: child.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            try removeEntry(child, in: fd, device: st.st_dev, path: shown, depth: depth + 1)
        }
        if unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
            throw SystemError(.remove, path: path, errno: errno)
        }
    }

    /// The names in an open directory, NUL-terminated bytes (its own descriptor is left open).
    private static func entries(_ fd: Int32, path: String) throws(SystemError) -> [[CChar]] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            let err = errno
            if copy >= 0 { close(copy) }
            throw SystemError(.remove, path: path, errno: err)
        }
        defer { closedir(dir) }
        var names: [[CChar]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [CChar] in
                let bytes = raw.bindMemory(to: CChar.self)
                let length = strnlen(bytes.baseAddress!, bytes.count)
                return Array(bytes[..<length]) + [0]
            }
            if name != [46, 0] && name != [46, 46, 0] { names.append(name) }  // "." and ".."
        }
        return names
    }

    /// `/a/b/c` -> (`/a/b`, `c`); a relative path's parent is `.`.
    static func split(_ path: String) -> (parent: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let parent = trimmed[..<slash]
        return (parent.isEmpty ? "/" : String(parent), String(trimmed[trimmed.index(after: slash)...]))
    }
}
