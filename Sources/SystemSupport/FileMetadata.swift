#if canImport(Glibc)
    import Glibc
#endif

/// What fstat/fstatat say about a file, for modules that should not read `struct stat` themselves (in a
/// module that links Foundation, its fields resolve to CoreFoundation's copy of the header).
public struct FileMetadata: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory, symlink, other }

    public var kind: Kind
    /// Permission bits, setuid/setgid/sticky included.
    public var mode: UInt32
    public var size: UInt64
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds since the Unix epoch.
    public var modified: Double

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        mode = UInt32(st.st_mode & 0o7777)
        size = UInt64(max(st.st_size, 0))
        uid = st.st_uid
        gid = st.st_gid
        modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    /// fstat of an open descriptor; nil with errno set on failure.
    public static func of(_ fd: Int32) -> FileMetadata? {
        var st = stat()
        return fstat(fd, &st) == 0 ? FileMetadata(st) : nil
    }

    /// fstatat of `name` in the directory `directory`, not following a symlink; nil with errno set on failure.
    public static func of(_ name: String, in directory: Int32) -> FileMetadata? {
        var st = stat()
        return fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? FileMetadata(st) : nil
    }

    /// stat of a path (following symlinks); nil with errno set on failure.
    public static func of(path: String) -> FileMetadata? {
        var st = stat()
        return stat(path, &st) == 0 ? FileMetadata(st) : nil
    }
}
