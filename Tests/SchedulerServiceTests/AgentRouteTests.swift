import CorralModel
import CorralProtocol
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Scheduler
import SchedulerService
import Store
import TestSupport
import Testing

/// The agent's side of the API through the router: failures reported by heartbeat, the dead-letter list
/// they end on, and long-polls during a graceful shutdown.
@Suite(.timeLimit(.minutes(1)))
struct AgentRouteTests {
    static let admin = RouterTests.auth("admin-token-0123456789")

    /// A started scheduler with node n1 registered through the router, the router's test client, and n1's
    /// credential as an `Authorization` header.
    static func withRegisteredNode(
        _ body: @Sendable (Scheduler, any TestClientProtocol, HTTPFields) async throws -> Void
    ) async throws {
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: try UsageHistory(path: nil),
            configuration: SchedulerCore.Configuration(quotas: RouterTests.config.quotas), logger: Logger(label: "test")
        )
        try await scheduler.start()
        let app = Application(router: SchedulerAPI(scheduler: scheduler, config: RouterTests.config).router())
        try await app.test(.router) { client in
            let node = try await RouterTests.register("n1", client)
            try await body(scheduler, client, node)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
    }

    @Test func aTaskOutOfAttemptsIsOnTheDeadLetterListWithItsLastErrorAndExitCode() async throws {
        try await Self.withRegisteredNode { _, client, agent in
            let spec = #"""
                {"name": "doomed", "tenant": "acme", "count": 2, "command": ["/bin/false"],
                 "resources": {"cpu": "100m"}, "retry": {"maxAttempts": 1}}
                """#
            let job = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: RouterTests.auth("acme-token-0123456789"),
                body: ByteBuffer(string: spec)
            ) { try Self.decode(JobView.self, $0).id }
            let orders = try await client.execute(
                uri: "/v1/agents/n1/allocations?wait=5", method: .get, headers: agent
            ) { try Self.decode(AgentOrders.self, $0) }
            try #require(orders.allocations.count == 2, "\(orders)")
            let failed = try #require(orders.allocations.first { $0.task.index == 1 })
            let completed = try #require(orders.allocations.first { $0.task.index == 0 })
            let beat = Heartbeat(
                usage: .idle,
                reports: [
                    AllocationReport(id: failed.id, state: .exited, exitCode: 3),
                    AllocationReport(id: completed.id, state: .exited, exitCode: 0),
                ])
            try await client.execute(
                uri: "/v1/agents/n1/heartbeat", method: .post, headers: agent,
                body: ByteBuffer(bytes: try JSONEncoder.api.encode(beat))
            ) { #expect($0.status == .ok) }

            let letters = try await client.execute(uri: "/v1/dead-letters", method: .get, headers: Self.admin) {
                try Self.decode([TaskView].self, $0)
            }
            #expect(letters.count == 1, "only the task out of attempts: \(letters)")
            let letter = try #require(letters.first)
            #expect(letter.job == job && letter.index == 1 && letter.attempt == 1)
            #expect(letter.state == .failed && letter.exitCode == 3 && letter.node == "n1")
            #expect(letter.lastError?.contains("exited with status 3") == true, "\(letter)")
        }
    }

    /// SIGTERM calls `shutdown()`: a long-poll waiting for orders is answered at once (so the server can
    /// stop without waiting out its 20 s), and a new one is refused with 503 `shutting_down`.
    @Test func aShutdownAnswersOpenLongPollsAtOnceAndRefusesNewOnesWith503() async throws {
        try await Self.withRegisteredNode { scheduler, client, agent in
            let started = ContinuousClock.now
            async let answered = client.execute(
                uri: "/v1/agents/n1/allocations?wait=30", method: .get, headers: agent
            ) { response in (response.status, ContinuousClock.now) }
            // The handshake: the poll is waiting in the scheduler before the shutdown begins.
            let deadline = ContinuousClock.now + .seconds(10)
            while await scheduler.openPolls == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try #require(await scheduler.openPolls == 1, "the long-poll never started waiting")
            #expect(await scheduler.shutdown() == 1)
            let (status, at) = try await answered
            #expect(status == .ok, "the open poll is answered (with no orders)")
            #expect(at - started < .seconds(10), "answered after \(at - started), not at once")
            try await client.execute(
                uri: "/v1/agents/n1/allocations?wait=30", method: .get, headers: agent
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(RouterTests.errorCode(response) == "shutting_down")
            }
        }
    }
}
