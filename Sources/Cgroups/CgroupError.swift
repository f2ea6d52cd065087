#if canImport(Glibc)
    import Glibc
#endif

/// Every failure of the cgroup driver: what was attempted, on which file, and the errno.
public struct CgroupError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case read, write, create, remove, open, kill, notSupported, timeout, invalid
    }

    public var code: Code
    public var path: String
    public var errno: Int32
    public var detail: String

    public init(_ code: Code, path: String, errno: Int32 = 0, detail: String = "") {
        self.code = code
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var text = "cgroup \(code.rawValue) \(path)"
        if errno != 0 { text += ": \(String(cString: strerror(errno))) (errno \(errno))" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}
