import Foundation

/// What a test needs from the machine. A missing precondition is a failure whose message says what to
/// install or how to run; only `Tests/run-all --allow-skips` (CORRAL_ALLOW_SKIPS=1, for a machine without
/// root) turns it into a skip, and never when CI=true.
public enum Requirement: Sendable {
    case root
    case cgroups
    /// An executable in PATH, and the Debian package that provides it.
    case binary(String, package: String)
    /// A command a PyPI package installs (`pip install NAME`).
    case pythonTool(String)
    case file(String, hint: String)
    /// A Python module python3 can import, and the PyPI package that provides it.
    case pythonModule(String, package: String)

    public var isMet: Bool {
        switch self {
        case .root: return geteuid() == 0
        case .cgroups:
            return FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
                || FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified")
                || FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory")
        case .binary(let name, _), .pythonTool(let name): return Requirement.which(name) != nil
        case .file(let path, _): return FileManager.default.fileExists(atPath: path)
        case .pythonModule(let module, _):
            guard let python = Requirement.which("python3") else { return false }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", "import \(module)"]
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
    }

    public var message: String {
        switch self {
        case .root: return "needs root (namespaces, cgroups, mounts): run the tests as root (sudo -E swift test)"
        case .cgroups: return "needs a mounted cgroup filesystem under /sys/fs/cgroup"
        case .binary(let name, let package): return "needs \(name): apt-get install \(package)"
        case .pythonTool(let name): return "needs \(name): python3 -m pip install \(name)"
        case .file(let path, let hint): return "needs \(path): \(hint)"
        case .pythonModule(let module, let package):
            return "needs the Python module \(module): python3 -m pip install \(package)"
        }
    }

    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}

public enum Preconditions {
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Skipping was asked for explicitly (`Tests/run-all --allow-skips`) and this is not CI.
    public static var allowsSkips: Bool {
        !isCI && ProcessInfo.processInfo.environment["CORRAL_ALLOW_SKIPS"] == "1"
    }

    /// For `.enabled(if:)`: true unless skips are allowed and a requirement is unmet. A test that runs
    /// without its requirements fails in its `#require(Preconditions.missing(...).isEmpty)` with the reason.
    public static func met(_ requirements: Requirement...) -> Bool { met(requirements) }

    public static func met(_ requirements: [Requirement]) -> Bool {
        !allowsSkips || requirements.allSatisfy(\.isMet)
    }

    /// The unmet requirements' messages, empty when all are met.
    public static func missing(_ requirements: Requirement...) -> [String] { missing(requirements) }

    public static func missing(_ requirements: [Requirement]) -> [String] {
        requirements.filter { !$0.isMet }.map(\.message)
    }
}

/// A directory under /tmp removed when the value is released.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "corral-test") {
        path = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func write(_ relative: String, _ contents: String) {
        let full = path + "/" + relative
        try? FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(contents.utf8))
    }

    public func read(_ relative: String) -> String? {
        try? String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The repository's root, found from this file's location.
public func repositoryRoot(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
    }
    return FileManager.default.currentDirectoryPath
}

/// The data sets the benchmarks and the forecasting tests share (auto-ARIMA panel, M3, traces).
public let datasetsDirectory = repositoryRoot() + "/Sources/Benchmarks/Datasets"
