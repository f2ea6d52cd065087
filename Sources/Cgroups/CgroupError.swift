import SystemSupport

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

extension CgroupError {
    /// A failed file operation inside a cgroup hierarchy, as the driver reports it.
    public init(_ error: SystemError) {
        let code: Code =
            switch error.operation {
            case .read: .read
            case .write: .write
            case .create: .create
            case .remove: .remove
            case .open: .open
            }
        self.init(code, path: error.path, errno: error.errno, detail: error.detail)
    }
}

/// `FileIO` for cgroup files, with failures as `CgroupError`s.
enum CgroupFile {
    static func read(_ path: String) throws(CgroupError) -> String {
        do throws(SystemError) { return try FileIO.read(path) } catch { throw CgroupError(error) }
    }

    static func write(_ value: String, to path: String) throws(CgroupError) {
        do throws(SystemError) { try FileIO.write(value, to: path) } catch { throw CgroupError(error) }
    }

    @discardableResult
    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(CgroupError) -> Bool {
        do throws(SystemError) { return try FileIO.makeDirectory(path, mode: mode) } catch { throw CgroupError(error) }
    }

    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(CgroupError) -> [String] {
        do throws(SystemError) { return try FileIO.makeDirectories(path, mode: mode) } catch {
            throw CgroupError(error)
        }
    }
}
