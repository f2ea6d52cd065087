import AsyncHTTPClient
import Cgroups
import CorralClient
import CorralProtocol
import CorralTLS
import Foundation
import NIOCore
import Sandbox
import Scheduler
import SchedulerService
import SystemSupport

/// A scheduler and agents on this machine, each a separate `corral` process with its own data directory,
/// cgroup parent and log file: what `corral demo` runs, and what the end-to-end tests start, stop and kill.
public final class LocalCluster: @unchecked Sendable {
    /// One agent to start: its node id, labels and the share of the host it offers.
    public struct Node: Sendable {
        public var id: String
        public var labels: [String: String]
        public var cpu: Double
        public var memory: String
        /// Where the agent talks to the scheduler (a network namespace's address in the tests).
        public var schedulerURL: String?
        /// Run the agent inside this network namespace (`ip netns add` name; entered with nsenter).
        public var netns: String?
        /// Where the agent serves its logs (a port is picked); default the cluster's host.
        public var listenHost: String?
        /// More `corral agent` options (`--log-limit 4Ki`, ...).
        public var arguments: [String] = []

        public init(
            id: String, labels: [String: String] = [:], cpu: Double = 1, memory: String = "1Gi",
            schedulerURL: String? = nil, netns: String? = nil
        ) {
            self.id = id
            self.labels = labels
            self.cpu = cpu
            self.memory = memory
            self.schedulerURL = schedulerURL
            self.netns = netns
        }
    }

    public let binary: String
    public let dataDir: String
    public let host: String
    public let port: Int
    /// Every scheduler's port (the first is `port`): one without `ha`.
    public let ports: [Int]
    public let ha: HA?
    public let config: SchedulerConfig
    /// With TLS on: the scheduler serves HTTPS and requires each agent's client certificate (mTLS), all from
    /// a CA made in `<data-dir>/tls` (`corral tls init`).
    public let tls: Bool
    let http: HTTPClient
    /// Parent of every agent's cgroup parent (`<slice>/<node>`), removed at shutdown.
    public let slice: String
    let lock = NSLock()
    private(set) var schedulers: [Int: Process] = [:]
    private var clients: [String: SchedulerClient] = [:]
    private var agents: [String: (node: Node, process: Process)] = [:]

    public init(
        binary: String, dataDir: String, config: SchedulerConfig, host: String = "127.0.0.1", port: Int? = nil,
        tls: Bool = false, ha: HA? = nil
    ) throws {
        self.binary = binary
        self.dataDir = dataDir
        self.config = config
        self.host = host
        self.tls = tls
        self.ha = ha
        self.port = try port ?? Self.freePort()
        ports = try [self.port] + (1..<(ha?.schedulers ?? 1)).map { _ in try Self.freePort() }
        slice = "corral-cluster-\(getpid())-\(UUID().uuidString.prefix(6).lowercased()).slice"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        if tls { _ = try CertificateAuthority.initialize(directory: dataDir + "/tls", hosts: [host], nodes: []) }
        http = tls ? try ClientTLS(ca: dataDir + "/tls/ca.pem").httpClient() : SchedulerClient.plainHTTP
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        chmod(configPath, 0o600)
    }

    /// Where clients and agents reach the schedulers: one URL, or with `ha` every scheduler's, comma-separated.
    public var url: String { schedulerURLs.joined(separator: ",") }
    public var schedulerURLs: [String] { ports.indices.map { "\(tls ? "https" : "http")://\(host($0)):\(ports[$0])" } }
    /// The address scheduler `index` listens on.
    func host(_ index: Int) -> String { ha?.namespaces[index]?.host ?? host }
    /// The CA file clients verify the scheduler with, when TLS is on.
    public var caFile: String? { tls ? dataDir + "/tls/ca.pem" : nil }
    public var configPath: String { dataDir + "/config.json" }
    /// One client per token for the cluster's life: it remembers which scheduler leads (a new one would
    /// first try a scheduler that may be dead).
    public func client(token: String? = nil) -> SchedulerClient {
        let token = token ?? config.adminToken
        return lock.withLock {
            if let client = clients[token] { return client }
            let client = SchedulerClient(baseURL: url, token: token, http: http)
            clients[token] = client
            return client
        }
    }
    public func nodeDataDir(_ id: String) -> String { dataDir + "/" + id }
    var tlsDir: String { dataDir + "/tls" }
    public func cgroupParent(_ id: String) -> String { slice + "/" + id }

    /// Starts the scheduler, or with `ha` every scheduler.
    public func startScheduler() throws {
        for index in ports.indices { try startScheduler(index) }
    }

    /// Starts scheduler `index` (0 without `ha`); its data directory is `scheduler` or `scheduler-<index>`.
    public func startScheduler(_ index: Int) throws {
        let store =
            ha.map {
                [
                    "--store", "etcd", "--etcd-endpoints", $0.endpoints.joined(separator: ","), "--lease-ttl",
                    "\($0.leaseTTL)",
                ]
            } ?? []
        let name = ha == nil ? "scheduler" : "scheduler-\(index)"
        let process = try launch(
            [
                "scheduler", "--data-dir", dataDir + "/" + name, "--listen", "\(host(index)):\(ports[index])",
                "--config",
                configPath,
                "--log-level", "info",
            ] + store
                + (tls
                    ? [
                        "--tls-cert", tlsDir + "/server.pem", "--tls-key", tlsDir + "/server.key", "--tls-client-ca",
                        tlsDir + "/ca.pem",
                    ] : []),
            log: dataDir + "/\(name).log", netns: ha?.namespaces[index]?.netns)
        lock.withLock { schedulers[index] = process }
    }

    public func startAgent(_ node: Node) throws {
        var arguments = [
            "agent", "--scheduler", node.schedulerURL ?? url, "--node-id", node.id,
            "--data-dir", nodeDataDir(node.id), "--cgroup-parent", cgroupParent(node.id), "--cpu", "\(node.cpu)",
            "--memory", node.memory, "--log-level", "info", "--listen",
            "\(node.listenHost ?? host):\(try Self.freePort())",
        ]
        if tls {
            let certificate = tlsDir + "/node-\(node.id).pem"
            if !FileManager.default.fileExists(atPath: certificate) {
                _ = try CertificateAuthority.issueNodes(directory: tlsDir, nodes: [node.id])
            }
            arguments += [
                "--ca", tlsDir + "/ca.pem", "--tls-cert", certificate, "--tls-key", tlsDir + "/node-\(node.id).key",
            ]
        }
        if !node.labels.isEmpty {
            arguments += [
                "--labels",
                node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            ]
        }
        // The token travels in the environment, never in argv (which every user of the host can read).
        let process = try launch(
            arguments + node.arguments, log: dataDir + "/\(node.id).log", netns: node.netns,
            environment: ["CORRAL_TOKEN": config.agentToken])
        lock.withLock { agents[node.id] = (node, process) }
    }

    /// Sends a signal to the scheduler process and waits for it to end (SIGKILL after 10 s); returns how it
    /// ended, nil when no scheduler ran.
    @discardableResult
    public func signalScheduler(_ signal: Int32, index: Int = 0) -> (
        reason: Process.TerminationReason, status: Int32
    )? {
        guard let process = lock.withLock({ schedulers[index] }) else { return nil }
        Self.signal(process, signal)
        lock.withLock { schedulers[index] = nil }
        return (process.terminationReason, process.terminationStatus)
    }

    public func signalAgent(_ id: String, _ signal: Int32) {
        guard let agent = lock.withLock({ agents[id] }) else { return }
        Self.signal(agent.process, signal)
        lock.withLock { agents[id] = nil }
    }

    public func agentPID(_ id: String) -> pid_t? { lock.withLock { agents[id]?.process.processIdentifier } }
    public var schedulerPID: pid_t? { lock.withLock { schedulers[0]?.processIdentifier } }

    /// Waits until the scheduler answers.
    public func waitForScheduler(timeout: Duration = .seconds(30)) async throws {
        try await waitForNodes(0, timeout: timeout)
    }

    /// Waits until `count` nodes are registered and ready.
    public func waitForNodes(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            if let nodes = try? await client().nodes() {
                if nodes.filter(\.ready).count >= count { return }
                last = "\(nodes.filter(\.ready).count) of \(count) nodes ready"
            } else {
                last = "scheduler not answering at \(url)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalClusterError("cluster not ready after \(timeout): \(last); logs in \(dataDir)")
    }

    /// Runs `body` with a cluster and shuts the cluster down afterwards, whether `body` returned or threw.
    /// With `failOnLeftovers` (the tests), a task cgroup or work directory the agents left behind once
    /// `body` returned is an error naming them; they are removed either way.
    public static func with<T>(
        binary: String, dataDir: String, config: SchedulerConfig, host: String = "127.0.0.1", tls: Bool = false,
        ha: HA? = nil, failOnLeftovers: Bool = false, _ body: (LocalCluster) async throws -> T
    ) async throws -> T {
        let cluster = try LocalCluster(binary: binary, dataDir: dataDir, config: config, host: host, tls: tls, ha: ha)
        let result: T
        do {
            result = try await body(cluster)
        } catch {
            await cluster.shutdown()
            throw error
        }
        let leftovers = await cluster.shutdown()
        if failOnLeftovers, !leftovers.isEmpty {
            throw LocalClusterError("the agents left behind (now removed): \(leftovers.joined(separator: ", "))")
        }
        return result
    }

    /// Stops every process (SIGTERM, then SIGKILL after 10 s), then kills what tasks are left (an agent
    /// stops without stopping its tasks) and removes their cgroups, work directories and the agents'
    /// cgroup parents. Returns what was left behind, as found before anything was removed: each task
    /// cgroup (with its process count) and work directory.
    @discardableResult
    public func shutdown() async -> [String] {
        // Ended tasks' work directories are kept for their retention (`corral alloc fs`); this cluster's go
        // with it. Its jobs name them (`<job>.<index>.<attempt>`).
        let jobs =
            lock.withLock { schedulers.isEmpty } ? [] : ((try? await client().jobs()) ?? []).map(\.id.rawValue)
        defer { Self.removeWork(of: jobs) }
        let processes = lock.withLock { () -> [Process] in
            defer {
                agents = [:]
                schedulers = [:]
            }
            return agents.values.map(\.process) + schedulers.values
        }
        for process in processes { Self.signal(process, SIGTERM) }
        guard let host = try? CgroupHost.detect(), let tree = host.unifiedMount ?? host.legacyMounts["memory"] else {
            return []
        }
        var leftovers: [String] = []
        let nodes = (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? []
        for node in nodes {
            let parent = cgroupParent(node)
            for task in (try? FileManager.default.contentsOfDirectory(atPath: tree + "/" + parent)) ?? [] {
                // The parent's own files (cgroup.procs, ...) are not task cgroups.
                guard let procs = FileIO.readIfPresent(tree + "/\(parent)/\(task)/cgroup.procs"),
                    let cgroup = Cgroup.existing(parent + "/" + task, host: host, owned: true)
                else { continue }
                let processes = procs.split(separator: "\n").count
                leftovers.append("cgroup \(parent)/\(task) (\(processes) processes)")
                let work = SandboxConfig.defaultWorkRoot() + "/" + task
                if FileManager.default.fileExists(atPath: work) { leftovers.append("work directory \(work)") }
                try? await cgroup.killRemaining()
                try? await cgroup.remove()
                try? WorkDirectory.discard(work)
            }
            CgroupParent.removeIfEmpty(parent, host: host)
        }
        CgroupParent.removeIfEmpty(slice, host: host)
        return leftovers
    }

    static func removeWork(of jobs: [String]) {
        guard !jobs.isEmpty else { return }
        let root = SandboxConfig.defaultWorkRoot()
        let prefixes = Set(jobs.map { $0 + "." })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            guard let dot = name.firstIndex(of: "."), prefixes.contains(String(name[...dot])) else { continue }
            try? WorkDirectory.discard(root + "/" + name)
        }
    }

    private func launch(
        _ arguments: [String], log: String, netns: String? = nil, environment: [String: String] = [:]
    ) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        output.seekToEndOfFile()
        let process = Process()
        if let netns {
            // nsenter switches only the network namespace; `ip netns exec` would also remount /sys and
            // hide the cgroup hierarchies from the agent.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
            process.arguments = ["--net=/run/netns/\(netns)", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
        return process
    }

    private static func signal(_ process: Process, _ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A port on 127.0.0.1 nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LocalClusterError("socket failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw LocalClusterError("cannot find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct LocalClusterError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
