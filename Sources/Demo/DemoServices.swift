import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import SchedulerService

/// The demo's second act: a batch job that writes a result read back with `corral alloc fs`, and a small
/// HTTP service on node-1's bridge, health-checked, answering on its published port.
enum DemoServices {
    /// node-1 runs bridge-mode tasks on a bridge and subnet of the demo's own (removed when it ends); the
    /// other nodes have no bridge networking.
    static let bridge = "crdemo0"
    static let subnet = "10.89.250.0/24"

    static func arguments(for node: String) -> [String] {
        node == "node-1"
            ? [
                "--bridge", bridge, "--task-subnet", subnet, "--port-range", "24000-24099", "--work-retention", "10m",
                // Published on the bridge's own address: the demo reaches no address it did not make.
                "--advertise-address", "10.89.250.1",
            ]
            : ["--task-subnet", "off", "--work-retention", "10m"]
    }

    /// Why the service cannot run here (a tool missing), or nil.
    static var serviceUnavailable: String? {
        for (tool, package) in [("nft", "nftables"), ("ip", "iproute2")]
        where !["/usr/sbin", "/sbin", "/usr/bin"].contains(where: {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }) {
            return "\(tool) is not installed (apt-get install \(package))"
        }
        return FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? nil : "/usr/bin/python3 is missing"
    }

    /// What the act showed, for the summary.
    struct Outcome: Sendable, Codable {
        /// The result file as `corral alloc fs` read it back.
        var result: String?
        /// The published address and what the service answered there.
        var serviceAddress: String?
        var serviceAnswer: String?
        var serviceHealth: String?
        var skipped: String?
    }

    static func run(_ cluster: LocalCluster, say: @escaping @Sendable (String) -> Void) async throws -> Outcome {
        var outcome = Outcome()
        let client = cluster.client(token: cluster.config.tenants["batch"]?.token)
        say("Files out and a service:")
        let result = try await client.submit(
            Data(
                #"""
                {"name": "result", "tenant": "batch", "resources": {"cpu": 0.1, "memory": "32Mi"},
                 "command": ["sh", "-c", "mkdir -p out && echo \"primes below 50: $(seq 2 49 | while read n; do i=2; while [ $((i*i)) -le $n ] && [ $((n%i)) -ne 0 ]; do i=$((i+1)); done; [ $((i*i)) -gt $n ] && printf '%s ' $n; done)\" > out/result.txt"]}
                """#.utf8))
        let ended = try await waitForTask(cluster, result.id.rawValue) { $0.state.isTerminal }
        if ended.state == .completed, let allocation = AllocationID("\(result.id).0.\(ended.attempt)"),
            case .file(let bytes, _, _) = try await client.files(allocation: allocation, path: "out/result.txt")
        {
            outcome.result = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            say(
                "  result       batch     \(result.id)  corral alloc fs \(result.id).0.\(ended.attempt) out/result.txt:"
            )
            say("                         \(outcome.result ?? "")")
        }

        if let why = serviceUnavailable {
            outcome.skipped = why
            say("  web          skipped: \(why)")
            return outcome
        }
        let web = try await client.submit(
            Data(
                #"""
                {"name": "web", "tenant": "batch", "type": "service", "constraints": {"zone": "a"},
                 "resources": {"cpu": 0.2, "memory": "64Mi"},
                 "network": {"mode": "bridge", "ports": [{"name": "http", "to": 8080}]},
                 "command": ["sh", "-c", "echo hello from $CORRAL_JOB at $CORRAL_ADDR_HTTP > index.html && exec python3 -m http.server $CORRAL_PORT_HTTP"],
                 "checks": [{"type": "http", "port": "http", "path": "/", "interval": "1s"}]}
                """#.utf8))
        let running = try await waitForTask(cluster, web.id.rawValue) {
            $0.health?.status == .healthy || $0.state.isTerminal
        }
        guard let port = running.network?.ports.first else {
            outcome.serviceHealth = running.health?.status.rawValue ?? running.state.rawValue
            return outcome
        }
        outcome.serviceAddress = port.address
        outcome.serviceHealth = running.health?.status.rawValue
        outcome.serviceAnswer = await fetch("http://\(port.address)/index.html")
        say(
            "  web          batch     \(web.id)  service on node-1's bridge (\(running.network?.address ?? "?")), "
                + "published at \(port.address), \(running.health?.status.rawValue ?? "?")")
        say("                         GET http://\(port.address)/ -> \(outcome.serviceAnswer ?? "no answer")")
        _ = try await cluster.client().cancel(web.id.rawValue)
        _ = try await waitForTask(cluster, web.id.rawValue) { $0.state.isTerminal }
        return outcome
    }

    static func waitForTask(
        _ cluster: LocalCluster, _ job: String, timeout: Duration = .seconds(60), _ done: (TaskView) -> Bool
    ) async throws -> TaskView {
        let end = ContinuousClock.now + timeout
        var last: TaskView?
        while ContinuousClock.now < end {
            if let task = try? await cluster.client().tasks(job).first {
                last = task
                if done(task) { return task }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        guard let last else { throw LocalClusterError("job \(job) has no task after \(timeout)") }
        return last
    }

    /// A GET from this process (the host), as a client of the published port would.
    static func fetch(_ url: String) async -> String? {
        let script =
            "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())"
        for _ in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script, url]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if process.terminationStatus == 0 {
                return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            try? await Task.sleep(for: .milliseconds(300))
        }
        return nil
    }

    /// Removes the demo's bridge and its rules, and puts IPv4 forwarding back as it was.
    static func cleanUp(forwarding: String?) {
        for arguments in [
            ["ip", "link", "del", bridge], ["nft", "delete", "table", "inet", bridge],
            ["nft", "delete", "table", "bridge", bridge],
        ] {
            guard
                let tool = ["/usr/sbin", "/sbin"].map({ "\($0)/\(arguments[0])" }).first(where: {
                    FileManager.default.isExecutableFile(atPath: $0)
                })
            else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = Array(arguments.dropFirst())
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil { process.waitUntilExit() }
        }
        if let forwarding, forwarding != "1" {
            try? (forwarding + "\n").write(toFile: forwardingPath, atomically: false, encoding: .utf8)
        }
    }

    static let forwardingPath = "/proc/sys/net/ipv4/ip_forward"
}
