import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// A directory root may put tasks' files in: reached from `/` one component at a time by descriptor
/// (openat with O_NOFOLLOW | O_DIRECTORY, so no symlink is followed anywhere on the way), created with
/// mkdirat where missing. Every component must be owned by root. The last `strict` components (the
/// directories that are Corral's own) must not be writable by group or others, whoever created them: a
/// local user who made `/dev/shm/corral` first cannot have root work in it. Above them a directory
/// writable by others must have the sticky bit (/tmp, /dev/shm), which keeps others from renaming root's
/// directories inside it.
public enum TrustedDirectory {
    /// Returns an O_PATH descriptor of the directory (close-on-exec); the caller closes it.
    public static func open(_ path: String, mode: mode_t, strict: Int) throws(SystemError) -> Int32 {
        guard path.hasPrefix("/") else {
            throw SystemError(.open, path: path, errno: EINVAL, detail: "not an absolute path")
        }
        let parts = path.split(separator: "/").map(String.init)
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else {
            throw SystemError(.open, path: path, errno: EINVAL, detail: "\".\" and \"..\" are not allowed")
        }
        var fd = Glibc.open("/", Int32(CORRAL_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(.open, path: "/", errno: errno) }
        var current = ""
        for (index, part) in parts.enumerated() {
            current += "/" + part
            if mkdirat(fd, part, mode) == 0 {
                // mkdirat applies the umask; the mode must be exactly what was asked for.
                fchmodat(fd, part, mode, 0)
            } else if errno != EEXIST {
                let err = errno
                close(fd)
                throw SystemError(.create, path: current, errno: err)
            }
            let next = openat(fd, part, Int32(CORRAL_O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let err = errno
            close(fd)
            guard next >= 0 else {
                throw SystemError(
                    .open, path: current, errno: err,
                    detail: err == ENOTDIR || err == ELOOP ? "a symlink or not a directory" : "")
            }
            fd = next
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                let err = errno
                close(fd)
                throw SystemError(.open, path: current, errno: err)
            }
            let isStrict = index >= parts.count - strict
            let writableByOthers = st.st_mode & (S_IWGRP | S_IWOTH) != 0
            var problem: String?
            if st.st_uid != 0 {
                problem = "owned by uid \(st.st_uid), not root"
            } else if isStrict && writableByOthers {
                problem = "writable by group or others (mode \(String(st.st_mode & 0o7777, radix: 8)))"
            } else if writableByOthers && st.st_mode & S_ISVTX == 0 {
                problem = "writable by others without the sticky bit"
            }
            if let problem {
                close(fd)
                throw SystemError(.open, path: current, errno: EPERM, detail: problem + "; refusing to use it")
            }
        }
        return fd
    }
}
