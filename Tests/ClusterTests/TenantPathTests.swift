import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// Two tenants through the whole path (scheduler, agent, sandbox, logs relayed from the agent): each sees
/// and touches only its own jobs, tasks and output.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct TenantPathTests {
    static func config() -> SchedulerConfig {
        var config = ClusterTests.config()
        config.tenants["u"] = .init(token: SchedulerConfig.randomToken())
        return config
    }

    /// Reads a stream the way `corral logs --follow` does: from offset 0 until the task ended and no bytes came.
    static func follow(_ client: SchedulerClient, _ allocation: AllocationID, _ stream: String) async throws -> String {
        var offset: UInt64 = 0
        var text = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let chunk = try await client.logs(allocation: allocation, stream: stream, offset: offset)
            text += String(decoding: chunk.bytes, as: UTF8.self)
            offset = chunk.next
            if !chunk.running && chunk.bytes.count == 0 { return text }
            if chunk.bytes.count == 0 { try await Task.sleep(for: .milliseconds(100)) }
        }
        Issue.record("\(allocation) \(stream) still running after 30 s; read so far: \(text)")
        return text
    }

    @Test("a tenant follows its task's logs through the scheduler; another tenant gets 403 on every part of it")
    func logsFollowAndTenantIsolation() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-tenants")
        let config = Self.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi"))
            try await cluster.waitForNodes(1)
            let owner = cluster.client(token: config.tenants["t"]!.token)
            let other = cluster.client(token: config.tenants["u"]!.token)
            let job = try await owner.submit(
                Data(
                    #"""
                    {"name": "talker", "tenant": "t", "resources": {"cpu": 0.1, "memory": "16Mi"},
                     "command": ["sh", "-c", "sleep 1; for i in 1 2 3; do echo line $i; sleep 0.4; done; echo done >&2"]}
                    """#.utf8)
            ).id.rawValue
            let running = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .running }
            let allocation = try #require(running.first?.allocation)

            // Followed while it runs: every line once, in order, and the stream ends when the task does.
            #expect(try await Self.follow(owner, allocation, "stdout") == "line 1\nline 2\nline 3\n")
            #expect(try await Self.follow(owner, allocation, "stderr") == "done\n")

            // The CLI, as an operator runs it.
            let cli = Process()
            cli.executableURL = URL(fileURLWithPath: ClusterTests.binary)
            cli.arguments = ["logs", "\(allocation)", "--scheduler", cluster.url]
            cli.environment = ProcessInfo.processInfo.environment.merging(["CORRAL_TOKEN": config.tenants["t"]!.token])
            {
                $1
            }
            let out = Pipe()
            cli.standardOutput = out
            try cli.run()
            let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            cli.waitUntilExit()
            #expect(cli.terminationStatus == 0)
            #expect(printed == "line 1\nline 2\nline 3\n")

            // The other tenant: not in its list, 403 on the job, its tasks, its logs and cancelling it.
            #expect(try await other.jobs().allSatisfy { $0.id.rawValue != job })
            for attempt in [
                { _ = try await other.job(job) }, { _ = try await other.tasks(job) },
                { _ = try await other.logs(allocation: allocation, stream: "stdout", offset: 0) },
                { _ = try await other.cancel(job) },
            ] as [@Sendable () async throws -> Void] {
                await #expect(throws: APIError.self) { try await attempt() }
                do { try await attempt() } catch let error as APIError { #expect(error.status == 403, "\(error)") }
            }
            // Agents' tokens read no logs through the scheduler; the agent's own endpoint takes no tenant token.
            await #expect(throws: APIError.self) {
                _ = try await cluster.client(token: config.agentToken).logs(
                    allocation: allocation, stream: "stdout", offset: 0)
            }
            let address = try #require(try await cluster.client().nodes().first?.address)
            // Only the relay token of the node's registration: not a tenant's, the admin's, or the bootstrap token.
            for token in [config.tenants["t"]!.token, config.adminToken, config.agentToken] {
                do {
                    _ = try await SchedulerClient(baseURL: address, token: token).logs(
                        allocation: allocation, stream: "stdout", offset: 0)
                    Issue.record("the agent served logs to a token that is not the agent's")
                } catch let error as APIError {
                    #expect(error.status == 401)
                }
            }
            // The node's credential, kept by its agent for its own use only.
            var status = stat()
            #expect(stat(cluster.nodeDataDir("n1") + "/node-credential", &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600, "mode \(String(status.st_mode & 0o777, radix: 8))")
            #expect(try await owner.job(job).state == .completed)
        }
    }
}
