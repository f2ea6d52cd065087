import Foundation
import SystemSupport

/// An etcd cluster on loopback for `corral demo --ha` and the failover tests: `count` members, each with
/// its own data directory and ports, started from PATH (Debian's etcd-server) and stopped by their pids.
public final class LocalEtcd: @unchecked Sendable {
    public struct Member: Sendable {
        public var name: String
        public var clientURL: String
        public var peerURL: String
    }

    public let members: [Member]
    let directory: String
    private let lock = NSLock()
    private var processes: [String: Process] = [:]

    public var endpoints: [String] { members.map(\.clientURL) }

    /// What to install when etcd is missing.
    public static let missing = "etcd is not installed: apt-get install etcd-server"

    /// `host`: the address members listen on for clients (a test's namespaces reach the host's side of
    /// their veth, not its loopback); peers always talk over 127.0.0.1.
    public init(count: Int, directory: String, host: String = "127.0.0.1") throws {
        guard let binary = Self.which("etcd") else { throw LocalClusterError(Self.missing) }
        self.directory = directory
        members = try (1...count).map { index in
            Member(
                name: "etcd\(index)", clientURL: "http://\(host):\(try LocalCluster.freePort())",
                peerURL: "http://127.0.0.1:\(try LocalCluster.freePort())")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for member in members { try start(member, binary: binary) }
        try waitUntilHealthy(timeout: 30)
    }

    func start(_ member: Member, binary: String) throws {
        let cluster = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let log = directory + "/\(member.name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--name", member.name, "--data-dir", directory + "/\(member.name).data",
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "corral-demo",
            // Elections within a second on a busy machine, without flapping.
            "--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap", "--log-level", "warn",
        ]
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { processes[member.name] = process }
    }

    /// Waits until every running member answers `/health` with a leader.
    public func waitUntilHealthy(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let running = lock.withLock { processes }
            if running.values.contains(where: { !$0.isRunning }) {
                throw LocalClusterError("an etcd member exited: its log is in \(directory)")
            }
            if members.filter({ running[$0.name] != nil }).allSatisfy({ Self.healthy($0.clientURL) }) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw LocalClusterError("etcd did not become healthy within \(Int(timeout)) s: logs in \(directory)")
    }

    /// SIGKILLs one member (by its pid).
    public func kill(_ name: String) {
        guard let process = lock.withLock({ processes.removeValue(forKey: name) }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Starts a killed member again, with its data.
    public func restart(_ name: String) throws {
        guard let member = members.first(where: { $0.name == name }), let binary = Self.which("etcd") else { return }
        try start(member, binary: binary)
    }

    /// Stops every member and removes their data.
    public func stop() {
        for member in members { kill(member.name) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { for member in members { kill(member.name) } }

    static func healthy(_ url: String) -> Bool {
        guard let curl = which("curl") else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: curl)
        process.arguments = ["-sf", "-m", "1", url + "/health"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return (path.split(separator: ":") + ["/usr/bin", "/usr/sbin"]).map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
