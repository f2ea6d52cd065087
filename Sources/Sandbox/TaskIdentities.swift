import CSandbox
import Cgroups
import CorralModel
import Synchronization
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The uids (each also the task's gid) a sandbox hands to its tasks: `FIRST-LAST`, inclusive.
public struct IdentityRange: Sendable, Equatable, CustomStringConvertible {
    public var first: UInt32
    public var last: UInt32

    /// 0x70000000 and the 65,536 ids after it: above the ranges Debian gives users (1000-59999), systemd's
    /// dynamic users (61184-65519) and the subordinate ids of /etc/subuid (100000 + 65536 per user), and
    /// above systemd-nspawn's container range (0x80000-0x6FFFFFFF), below 2^31.
    public static let `default` = IdentityRange(first: 0x7000_0000, last: 0x7000_FFFF)

    public init(first: UInt32, last: UInt32) {
        self.first = first
        self.last = last
    }

    public var count: UInt32 { last - first + 1 }
    public var description: String { "\(first)-\(last)" }
    public func contains(_ id: UInt32) -> Bool { id >= first && id <= last }

    /// `FIRST-LAST`; at least 16 ids, none of them 0 or at or above 2^31 - 1 (-1 as a 32-bit value means
    /// "no change" to set*id calls).
    public static func parse(_ text: String, field: String) throws(ValueError) -> IdentityRange {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = UInt32(parts[0]), let last = UInt32(parts[1]) else {
            throw ValueError(field: field, message: "\"\(text)\" is not FIRST-LAST (e.g. 1879048192-1879113727)")
        }
        guard first > 0, last < Int32.max, last >= first, last - first >= 15 else {
            throw ValueError(
                field: field, message: "\"\(text)\" must hold at least 16 ids between 1 and \(Int32.max - 1)")
        }
        return IdentityRange(first: first, last: last)
    }
}

/// A uid leased to one task until its processes and cgroup are gone.
struct IdentityLease: Sendable {
    let uid: UInt32
    let leases: TaskIdentities

    func release() { leases.release(uid) }
}

/// Hands out task uids so that no two live tasks share one, across every Corral process on the host (the
/// agent, `corral exec`): a lease is a file named by the uid, created with O_EXCL in a root-owned 0700
/// directory, holding the cgroup of the task it belongs to. It is removed once that task's cgroup is gone.
/// A lease left by a process that died is taken over only when its cgroup no longer exists (so its task's
/// processes are gone too) and it is older than a minute (so a launch between lease and cgroup is not
/// mistaken for a leftover).
final class TaskIdentities: Sendable {
    let range: IdentityRange
    let directory: String
    private let directoryFD: Int32
    private let host: CgroupHost
    private let cursor: Mutex<UInt32>

    init(range: IdentityRange, directory: String, host: CgroupHost) throws(SandboxError) {
        self.range = range
        self.directory = directory
        self.host = host
        do throws(SystemError) { directoryFD = try TrustedDirectory.open(directory, mode: 0o700, strict: 2) } catch {
            throw SandboxError(.workDirectory, error.description, errno: error.errno, path: error.path)
        }
        cursor = Mutex(UInt32.random(in: 0..<range.count))
    }

    deinit { close(directoryFD) }

    /// Every account or group of this host whose id falls in the range (they would share files with tasks).
    static func conflicts(with range: IdentityRange) -> [String] {
        var found: [String] = []
        setpwent()
        while let entry = getpwent() {
            if range.contains(entry.pointee.pw_uid) || range.contains(entry.pointee.pw_gid) {
                found.append("user \(String(cString: entry.pointee.pw_name)) (\(entry.pointee.pw_uid))")
            }
        }
        endpwent()
        setgrent()
        while let entry = getgrent() {
            if range.contains(entry.pointee.gr_gid) {
                found.append("group \(String(cString: entry.pointee.gr_name)) (\(entry.pointee.gr_gid))")
            }
        }
        endgrent()
        return found
    }

    /// A uid no live task holds, leased to the task whose cgroup is `cgroup` (relative path).
    func lease(for cgroup: String) throws(SandboxError) -> IdentityLease {
        for _ in 0..<range.count {
            let uid = cursor.withLock { next in
                defer { next = (next + 1) % range.count }
                return range.first + next
            }
            if tryLease(uid, cgroup: cgroup) { return IdentityLease(uid: uid, leases: self) }
        }
        throw SandboxError(
            .user, "every task uid in \(range) is in use (\(range.count) running tasks?)", path: directory)
    }

    func release(_ uid: UInt32) { unlinkat(directoryFD, String(uid), 0) }

    /// Marks a uid as held by a task found again after a restart (its lease file normally still exists).
    func adopt(_ uid: UInt32, cgroup: String) {
        guard range.contains(uid) else { return }
        _ = tryLease(uid, cgroup: cgroup)
    }

    private func tryLease(_ uid: UInt32, cgroup: String) -> Bool {
        let name = String(uid)
        for _ in 0..<2 {
            let fd = openat(directoryFD, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let line = cgroup + "\n"
                _ = line.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return true
            }
            guard errno == EEXIST, isStale(name) else { return false }
            unlinkat(directoryFD, name, 0)
        }
        return false
    }

    private func isStale(_ name: String) -> Bool {
        var st = stat()
        guard fstatat(directoryFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        guard Double(st.st_mtim.tv_sec) < WallClock.now - 60 else { return false }
        let fd = openat(directoryFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return true }  // torn write by a process that died at once
        let cgroup = String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: "\n")
        let parts = cgroup.split(separator: "/", omittingEmptySubsequences: false)
        guard !cgroup.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return true }
        let mounts = [host.unifiedMount].compactMap { $0 } + host.legacyMounts.values.sorted()
        return !mounts.contains { FileIO.exists($0 + "/" + cgroup) }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var text = self
        while text.last == set { text.removeLast() }
        return text
    }
}
