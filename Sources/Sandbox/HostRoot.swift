#if canImport(Glibc)
    import Glibc
#endif

/// The root of a task without an image, resolved once from `SandboxConfig.rootPaths`: host directories
/// bound read-only, and top-level symlinks repeated as symlinks (Debian's /bin -> usr/bin). Everything
/// else of the host (/var, /home, /root, /run, the work root, other tasks) is simply not in it.
struct HostRoot: Sendable, Equatable {
    var binds: [String] = []
    /// (path, target)
    var links: [(String, String)] = []

    static func == (a: HostRoot, b: HostRoot) -> Bool {
        a.binds == b.binds && a.links.map(\.0) == b.links.map(\.0) && a.links.map(\.1) == b.links.map(\.1)
    }

    /// Paths that do not exist are skipped (not every host has /lib32). `runtimeDirectory` (the work root's
    /// parent) must not be visible, nor may anything holding it be.
    static func resolve(_ paths: [String], runtimeDirectory: String) throws(SandboxError) -> HostRoot {
        var root = HostRoot()
        for path in paths {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard path.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { ["", ".", ".."].contains($0) }) else {
                throw SandboxError(
                    .configuration, "root path \"\(path)\" must be an absolute, normalized path other than /",
                    path: path)
            }
            if runtimeDirectory == path || runtimeDirectory.hasPrefix(path + "/")
                || path.hasPrefix(runtimeDirectory + "/")
            {
                throw SandboxError(
                    .configuration, "root path \(path) would show tasks Corral's runtime directory \(runtimeDirectory)",
                    path: path)
            }
            var st = stat()
            guard lstat(path, &st) == 0 else {
                if errno == ENOENT { continue }
                throw SandboxError(.configuration, "cannot read root path \(path)", errno: errno, path: path)
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                root.binds.append(path)
            case S_IFLNK where parts.count == 1:
                var buffer = [CChar](repeating: 0, count: 4096)
                let n = readlink(path, &buffer, buffer.count - 1)
                guard n > 0 else {
                    throw SandboxError(.configuration, "cannot read link \(path)", errno: errno, path: path)
                }
                root.links.append((path, String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)))
            default:
                throw SandboxError(
                    .configuration, "root path \(path) is not a directory (or a symlink directly under /)", path: path)
            }
        }
        return root
    }
}
