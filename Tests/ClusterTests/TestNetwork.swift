import Demo
import Foundation
import Synchronization
import TestSupport

/// Network namespaces and veth pairs named after this process and network, addresses in 10.OCTET.0.0/16: namespace N
/// holds 10.OCTET.N.2 and reaches the host (10.OCTET.N.1, where the scheduler may listen) through its own pair.
/// Everything is deleted when the value goes away.
final class TestNetwork: @unchecked Sendable {
    private static let made = Mutex(0)
    /// This process and a count of its networks: suites running side by side get names of their own.
    let tag: String
    /// The second octet of this network's addresses (10.OCTET.0.0/16), so that networks of suites running
    /// side by side do not share routes.
    let octet: Int

    init() {
        let count = Self.made.withLock { count in
            count += 1
            return count
        }
        tag = String(Int(getpid() % 1000) * 100 + count % 100)
        octet = 200 + count % 50
    }
    var schedulerAddress: String { "10.\(octet).1.1" }
    var namespaces: [String] = []
    var links: [String] = []

    func name(_ index: Int) -> String { "corral-\(tag)-\(index)" }
    /// The address of namespace `index` (what its agent advertises).
    func address(_ index: Int) -> String { "10.\(octet).\(index).2" }

    /// A namespace whose only route leads to the scheduler's address through its own veth pair.
    func addNamespace(_ index: Int) throws -> String {
        let ns = name(index)
        let host = "crh\(tag)\(index)"
        let inner = "crn\(tag)\(index)"
        try Self.ip("netns", "add", ns)
        namespaces.append(ns)
        try Self.ip("link", "add", host, "type", "veth", "peer", "name", inner)
        links.append(host)
        try Self.ip("link", "set", inner, "netns", ns)
        try Self.ip("addr", "add", "10.\(octet).\(index).1/24", "dev", host)
        try Self.ip("link", "set", host, "up")
        try Self.ip("-n", ns, "addr", "add", "\(address(index))/24", "dev", inner)
        try Self.ip("-n", ns, "link", "set", inner, "up")
        try Self.ip("-n", ns, "link", "set", "lo", "up")
        if index > 1 {
            try Self.ip("-n", ns, "route", "add", "\(schedulerAddress)/32", "via", "10.\(octet).\(index).1")
        }
        return ns
    }

    /// A direct link between two namespaces, over which each reaches the other's address.
    func connect(_ a: Int, _ b: Int) throws {
        let left = "crx\(tag)\(a)\(b)"
        let right = "cry\(tag)\(a)\(b)"
        try Self.ip("link", "add", left, "type", "veth", "peer", "name", right)
        try Self.ip("link", "set", left, "netns", name(a))
        try Self.ip("link", "set", right, "netns", name(b))
        for (index, device, peer, host) in [(a, left, b, 1), (b, right, a, 2)] {
            try Self.ip("-n", name(index), "addr", "add", "10.\(octet).2\(a)\(b).\(host)/30", "dev", device)
            try Self.ip("-n", name(index), "link", "set", device, "up")
            try Self.ip("-n", name(index), "route", "add", "\(address(peer))/32", "dev", device)
        }
    }

    func cut(_ index: Int) throws { try Self.ip("link", "set", "crh\(tag)\(index)", "down") }
    func restore(_ index: Int) throws { try Self.ip("link", "set", "crh\(tag)\(index)", "up") }

    deinit {
        for link in links { try? Self.ip("link", "del", link) }
        for ns in namespaces { try? Self.ip("netns", "del", ns) }
    }

    static func ip(_ arguments: String...) throws { _ = try run(Requirement.which("ip") ?? "/usr/sbin/ip", arguments) }

    /// Runs a command inside namespace `index` (or on the host for nil); returns its stdout, throws on failure.
    func run(in index: Int?, _ arguments: [String]) throws -> String {
        guard let index else { return try Self.run(arguments[0], Array(arguments.dropFirst())) }
        return try Self.run("/usr/bin/nsenter", ["--net=/run/netns/\(name(index))"] + arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalClusterError(
                "\(executable) \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension TestNetwork {
    /// A scheduler, then one agent `nN` (2 cores, 2 GiB) in each of `count` namespaces of this network,
    /// waited for until all registered.
    func startCluster(_ cluster: LocalCluster, agents count: Int) async throws {
        var namespaces: [String] = []
        for index in 1...count { namespaces.append(try addNamespace(index)) }
        try cluster.startScheduler()
        for (index, ns) in zip(1..., namespaces) {
            try cluster.startAgent(LocalCluster.Node(id: "n\(index)", cpu: 2, memory: "2Gi", netns: ns))
        }
        try await cluster.waitForNodes(count)
    }
}
