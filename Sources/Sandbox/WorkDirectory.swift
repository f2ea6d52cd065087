import Cgroups
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The host directory bound at /work: the caller's own, or one Corral made on tmpfs and removes.
public struct WorkDirectory: Sendable {
    let path: String
    let owned: Bool

    /// The caller's directory, or `<root>/<id>` made by descriptor in the work root (mkdirat, then
    /// fchownat without following a link) and given to the task's user, mode 0700.
    static func prepare(
        spec: TaskSpec, root: String, rootFD: Int32, owner: UserIdentity
    ) throws(SandboxError) -> WorkDirectory {
        if let given = spec.workDirectory {
            var st = stat()
            guard stat(given, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw SandboxError(
                    .workDirectory, "work directory \(given) is not a directory", errno: errno, path: given)
            }
            return WorkDirectory(path: given, owned: false)
        }
        let path = root + "/" + spec.id
        guard mkdirat(rootFD, spec.id, 0o700) == 0 else {
            let message =
                errno == EEXIST
                ? "work directory \(path) already exists (task id in use?)" : "cannot create work directory \(path)"
            throw SandboxError(.workDirectory, message, errno: errno, path: path)
        }
        guard fchownat(rootFD, spec.id, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
            let err = errno
            unlinkat(rootFD, spec.id, AT_REMOVEDIR)
            throw SandboxError(.workDirectory, "cannot give \(path) to \(owner.name)", errno: err, path: path)
        }
        if let size = spec.workSize {
            // The directory was made just now in the root-owned work root: no task has seen its path.
            let options = "size=\(size),mode=0700,uid=\(owner.uid),gid=\(owner.gid)"
            guard mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
                let err = errno
                unlinkat(rootFD, spec.id, AT_REMOVEDIR)
                throw SandboxError(
                    .workDirectory, "cannot mount a \(size)-byte tmpfs on \(path)", errno: err, path: path)
            }
        }
        if !spec.workSubdirectories.isEmpty {
            // Just made (and mounted) here: opened without following a link all the same.
            let fd = openat(rootFD, spec.id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                throw SandboxError(.workDirectory, "cannot open work directory \(path)", errno: errno, path: path)
            }
            defer { close(fd) }
            for name in spec.workSubdirectories {
                guard mkdirat(fd, name, 0o700) == 0, fchownat(fd, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) == 0
                else {
                    throw SandboxError(
                        .workDirectory, "cannot make \(name) in work directory \(path)", errno: errno, path: path)
                }
            }
        }
        return WorkDirectory(path: path, owned: !spec.keepWorkDirectory)
    }

    /// Removes an owned work directory (cheap on tmpfs). Errors are returned for logging.
    @discardableResult
    func remove() -> SystemError? {
        guard owned else { return nil }
        do throws(SystemError) { try Self.discard(path) } catch { return error }
        return nil
    }

    /// Removes a work directory Corral made, unmounting its own tmpfs first when it has one (a task with a
    /// disk bound).
    public static func discard(_ path: String) throws(SystemError) {
        umount2(path, Int32(MNT_DETACH))  // EINVAL when it is no mount point: nothing to undo
        try FileIO.removeTree(path)
    }

    /// Bytes used in a work directory of its own tmpfs, nil when it cannot be read.
    public static func usedBytes(_ path: String) -> UInt64? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        return (UInt64(fs.f_blocks) - UInt64(fs.f_bfree)) * UInt64(fs.f_frsize)
    }
}
