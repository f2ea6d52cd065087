import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Bridge networking end to end: two agents, each in a network namespace of its own (as a host of its own),
/// with their bridges, nftables rules and published ports inside those namespaces.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct NetworkTests {
    static let requirements: [Requirement] = [
        .root, .cgroups, .binary("ip", package: "iproute2"), .binary("nsenter", package: "util-linux"),
        .binary("nft", package: "nftables"), .file("/usr/bin/python3", hint: "apt-get install python3"),
    ]

    /// Tenants a (may use the host's network) and b (may not), nodes n1 and n2 in namespaces 1 and 2,
    /// which also reach each other directly.
    static func withCluster(_ body: (LocalCluster, TestNetwork) async throws -> Void) async throws {
        let missing = Preconditions.missing(Self.requirements)
        try #require(missing.isEmpty, "\(missing)")
        let network = TestNetwork()
        let directory = TemporaryDirectory("corral-bridge")
        var config = ClusterTests.config()
        config.tenants = [
            "a": .init(token: SchedulerConfig.randomToken(), allowHostNetwork: true),
            "b": .init(token: SchedulerConfig.randomToken()),
        ]
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, host: network.schedulerAddress,
            failOnLeftovers: true
        ) { cluster in
            for index in 1...2 { _ = try network.addNamespace(index) }
            try network.connect(1, 2)
            try cluster.startScheduler()
            for index in 1...2 { try cluster.startAgent(node(index, network)) }
            try await cluster.waitForNodes(2)
            try await body(cluster, network)
        }
    }

    static func node(_ index: Int, _ network: TestNetwork) -> LocalCluster.Node {
        var node = LocalCluster.Node(
            id: "n\(index)", labels: ["node": "n\(index)"], cpu: 2, memory: "2Gi", netns: network.name(index))
        node.listenHost = network.address(index)
        node.arguments = ["--task-subnet", "10.89.\(index).0/24", "--port-range", "21000-21099"]
        return node
    }

    static func submit(_ cluster: LocalCluster, tenant: String, _ spec: String) async throws -> String {
        let token = cluster.config.tenants[tenant]!.token
        return try await cluster.client(token: token).submit(Data(spec.utf8)).id.rawValue
    }

    /// A job of `tenant` on node n1 that runs `command` once.
    static func job(_ name: String, tenant: String, network: String, _ command: [String], node: Int = 1) -> String {
        let argv = command.map { "\"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ", ")
        return """
            {"name": "\(name)", "tenant": "\(tenant)", "command": [\(argv)], "network": \(network),
             "resources": {"cpu": 0.2, "memory": "64Mi"}, "constraints": {"node": "n\(node)"},
             "retry": {"maxAttempts": 1}}
            """
    }

    static let server = [
        "sh", "-c", "echo served-by-$CORRAL_JOB > index.html && exec python3 -m http.server $CORRAL_PORT_HTTP",
    ]
    static let bridgeWithPort = #"{"mode": "bridge", "ports": [{"name": "http", "to": 8080}]}"#

    /// `python3` connecting to HOST PORT from inside a task: exit 0 when it connected.
    static func connect(_ host: String, _ port: Int) -> [String] {
        [
            "python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)",
            host, String(port),
        ]
    }

    /// GETs `url` from namespace `index` (nil: the host), retrying while the server starts; the body or nil.
    static func fetch(_ url: String, from index: Int?, _ network: TestNetwork, attempts: Int = 100) async -> String? {
        let script =
            "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())"
        for _ in 0..<attempts {
            if let body = try? network.run(in: index, ["/usr/bin/python3", "-c", script, url]) { return body }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    static func running(_ cluster: LocalCluster, _ job: String) async throws -> TaskView {
        let tasks = try await ClusterTests.waitForTasks(cluster, job) {
            $0.first?.state == .running && $0.first?.network?.ports.isEmpty == false
        }
        return try #require(tasks.first)
    }

    static func ended(_ cluster: LocalCluster, _ job: String) async throws -> TaskView {
        let tasks = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state.isTerminal == true }
        return try #require(tasks.first)
    }

    /// What bridge networking holds in namespace `index`: task veths, published ports, tenant pairs.
    static func leftovers(_ network: TestNetwork, _ index: Int) throws -> [String] {
        var found: [String] = []
        let links = try network.run(in: index, ["/usr/sbin/ip", "-o", "link", "show"])
        found += links.split(separator: "\n").compactMap { line in
            let name = line.split(separator: ":").dropFirst().first?.trimmingCharacters(in: .whitespaces) ?? ""
            return name.hasPrefix("cv") ? "veth \(name)" : nil
        }
        let nft = Requirement.which("nft") ?? "/usr/sbin/nft"
        for (family, set) in [("inet", "published"), ("bridge", "peers"), ("bridge", "ports")] {
            let kind = set == "published" ? "map" : "set"
            let listing = try network.run(in: index, [nft, "list", kind, family, "corral0", set])
            if listing.contains("elements") { found.append("\(family) \(set): \(listing)") }
        }
        return found
    }

    @Test("a bridge task's published port answers from the host and from another node; tenants are separated")
    func publishedPortsAndSeparation() async throws {
        try await Self.withCluster { cluster, network in
            let web = try await Self.submit(
                cluster, tenant: "a", Self.job("web", tenant: "a", network: Self.bridgeWithPort, Self.server))
            let task = try await Self.running(cluster, web)
            let port = try #require(task.network?.ports.first)
            #expect(port.name == "http" && port.to == 8080)
            #expect(port.address == "\(network.address(1)):\(port.hostPort)", "\(port)")
            #expect((21000...21099).contains(port.hostPort))
            let address = try #require(task.network?.address)
            #expect(address.hasPrefix("10.89.1."), "\(address)")

            // `corral job status` shows where the task is reached.
            let status = try runCorral(
                ["job", "status", web],
                environment: ["CORRAL_ADDR": cluster.url, "CORRAL_TOKEN": cluster.config.adminToken])
            #expect(status.stdout.contains("network bridge"), "\(status.stdout)\(status.stderr)")
            #expect(status.stdout.contains("\(address) http=\(port.address)"), "\(status.stdout)")

            let fromHost = await Self.fetch("http://\(port.address)/index.html", from: nil, network)
            #expect(fromHost == "served-by-\(web)\n")
            let fromOtherNode = await Self.fetch("http://\(port.address)/index.html", from: 2, network)
            #expect(fromOtherNode == "served-by-\(web)\n")

            // On the bridge: the same tenant reaches the task's own address, another tenant does not; that
            // tenant's task still reaches the world outside the node (egress NAT): here, the scheduler.
            let bridge = #"{"mode": "bridge"}"#
            let same = try await Self.submit(
                cluster, tenant: "a", Self.job("same", tenant: "a", network: bridge, Self.connect(address, 8080)))
            let other = try await Self.submit(
                cluster, tenant: "b", Self.job("other", tenant: "b", network: bridge, Self.connect(address, 8080)))
            let egress = try await Self.submit(
                cluster, tenant: "b",
                Self.job("egress", tenant: "b", network: bridge, Self.connect(network.schedulerAddress, cluster.port)))
            // Without a network, not even the node's published port is reachable.
            let isolated = try await Self.submit(
                cluster, tenant: "a",
                Self.job("isolated", tenant: "a", network: "null", Self.connect(network.address(1), port.hostPort)))
            #expect(try await Self.ended(cluster, same).state == .completed)
            #expect(try await Self.ended(cluster, other).state == .failed)
            #expect(try await Self.ended(cluster, egress).state == .completed)
            #expect(try await Self.ended(cluster, isolated).state == .failed)

            // The host's network only for tenants allowed it.
            let host = Self.job("host", tenant: "b", network: #"{"mode": "host"}"#, ["true"])
            await #expect {
                _ = try await Self.submit(cluster, tenant: "b", host)
            } throws: { error in
                let error = error as? APIError
                return error?.status == 422 && error?.problems?.first?.field == "network.mode"
            }

            _ = try await cluster.client().cancel(web)
            _ = try await Self.ended(cluster, web)
            try await Self.expectNoLeftovers(network, 1)
        }
    }

    @Test("a bridge task keeps its address and port across an agent restart; nothing is left once it ends")
    func agentRestart() async throws {
        try await Self.withCluster { cluster, network in
            let web = try await Self.submit(
                cluster, tenant: "a", Self.job("web", tenant: "a", network: Self.bridgeWithPort, Self.server))
            let task = try await Self.running(cluster, web)
            let port = try #require(task.network?.ports.first)
            #expect(await Self.fetch("http://\(port.address)/", from: nil, network) != nil)

            cluster.signalAgent("n1", SIGKILL)
            try cluster.startAgent(Self.node(1, network))
            try await cluster.waitForNodes(2)
            #expect(await Self.fetch("http://\(port.address)/index.html", from: nil, network) == "served-by-\(web)\n")
            let after = try await cluster.client().tasks(web)
            #expect(after.first?.attempt == 1 && after.first?.state == .running)
            #expect(
                try Self.leftovers(network, 1).count == 3, "a veth, a published port and a bridge port while it runs")

            _ = try await cluster.client().cancel(web)
            _ = try await Self.ended(cluster, web)
            try await Self.expectNoLeftovers(network, 1)
        }
    }

    /// The task's rules and veth go shortly after its end is reported.
    static func expectNoLeftovers(_ network: TestNetwork, _ index: Int) async throws {
        var left: [String] = []
        for _ in 0..<50 {
            left = try leftovers(network, index)
            if left.isEmpty { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("left behind in namespace \(index): \(left)")
    }
}
