import CSandbox
import Cgroups
import CorralModel

#if canImport(Glibc)
    import Glibc
#endif

/// Why a task could not be started: a code, the message, and for setup failures the step, errno and path.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidSpec, configuration, notPermitted, user, image, workDirectory, cgroup, spawn, setup, exec, network
    }

    public var code: Code
    public var message: String
    public var errno: Int32
    public var step: String?
    public var path: String?

    public init(_ code: Code, _ message: String, errno: Int32 = 0, step: String? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
        self.step = step
        self.path = path
    }

    public init(_ problems: [ValueError]) {
        self.init(.invalidSpec, problems.map(\.description).joined(separator: "; "))
    }

    public init(_ error: CgroupError) {
        self.init(.cgroup, error.description, errno: error.errno, path: error.path)
    }

    /// A failure PID 1 or the task reported through the error pipe.
    init(setup: corral_setup_error) {
        var copy = setup
        let path = withUnsafeBytes(of: &copy.path) {
            String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
        let step = String(cString: corral_step_name(setup.step))
        let reason = "\(String(cString: strerror(setup.err))) (errno \(setup.err))"
        if setup.step == Int32(CORRAL_STEP_EXEC.rawValue) {
            self.init(.exec, "cannot execute \(path): \(reason)", errno: setup.err, step: step, path: path)
        } else {
            let at = path.isEmpty ? "" : " \(path)"
            self.init(
                .setup, "sandbox setup failed at \(step)\(at): \(reason)", errno: setup.err, step: step, path: path)
        }
    }

    public var description: String { message }

    /// The exit status a command-line launcher should use: 127 not found, 126 not executable, 125 other.
    public var launcherExitCode: Int32 {
        guard code == .exec else { return 125 }
        return errno == ENOENT ? 127 : 126
    }
}
