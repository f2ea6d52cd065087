import CSandbox

/// SystemSupport: the small layer over the kernel that Cgroups, Sandbox and the agent share: whole-file
/// reads and single-write writes for pseudo-filesystems, directory creation and descriptor-relative tree
/// removal, an epoll waiter for descriptors, statfs, and the host's CPU counters. Every failure is a
/// `SystemError` naming the operation, the path and the errno. Knows nothing of cgroups, tasks or jobs;
/// imports only CSandbox (for the syscalls Swift's Glibc module does not import).
#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call on a path: what was attempted, where, and the errno.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Operation: String, Sendable {
        case read, write, create, remove, open
    }

    public var operation: Operation
    public var path: String
    public var errno: Int32
    public var detail: String

    public init(_ operation: Operation, path: String, errno: Int32, detail: String = "") {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var text = "\(operation.rawValue) \(path)"
        if errno != 0 { text += ": \(String(cString: strerror(errno))) (errno \(errno))" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

/// statfs(2).
public enum FileSystem {
    /// The filesystem magic of a path (statfs f_type), or 0 when it cannot be read.
    public static func type(_ path: String) -> Int { Int(corral_fs_type(path)) }
}
