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

/// Issue 20, item 1: the agent token is a bootstrap token that only registers a node id not yet known;
/// every later request of a node carries that node's own credential, which the scheduler keeps hashed.
@Suite(.timeLimit(.minutes(1)))
struct NodeCredentialTests {
    @discardableResult
    static func withRouter<T: Sendable>(
        store: any StateStore, config: SchedulerConfig = RouterTests.config,
        _ body: @Sendable (Scheduler, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let scheduler = Scheduler(
            store: store, history: nil, configuration: SchedulerCore.Configuration(quotas: config.quotas),
            logger: Logger(label: "test"))
        try await scheduler.start()
        let app = Application(router: SchedulerAPI(scheduler: scheduler, config: config).router())
        let result = try await app.test(.router) { client in try await body(scheduler, client) }
        _ = await scheduler.shutdown()
        return result
    }

    static func status(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields,
        body: String = "{}"
    ) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body)) {
            (Int($0.status.code), RouterTests.errorCode($0))
        }
    }

    static let beat = #"{"usage": {"cpu": 0, "memory": 0, "io": 0}, "allocations": [], "running": []}"#

    @Test func theBootstrapTokenRegistersOnlyANewNodeIdAndItsAnswerCarriesTheCredential() async throws {
        try await Self.withRouter(store: try SQLiteStore(path: nil)) { _, client in
            let orders = try await client.execute(
                uri: "/v1/agents/register", method: .post, headers: RouterTests.bootstrap,
                body: ByteBuffer(string: RouterTests.registration("a"))
            ) { try JSONDecoder().decode(AgentOrders.self, from: Data($0.body.readableBytesView)) }
            let credential = try #require(orders.credential)
            #expect(credential.count == 64 && credential.allSatisfy(\.isHexDigit), "256 random bits: \(credential)")
            #expect(orders.relayToken != nil)
            // Someone else with the bootstrap token cannot take node a over.
            #expect(
                try await Self.status(
                    client, .post, "/v1/agents/register", RouterTests.bootstrap, body: RouterTests.registration("a"))
                    == (409, "node_registered"))
            // Its own agent re-registers with the credential, and gets no new one.
            let again = try await client.execute(
                uri: "/v1/agents/register", method: .post, headers: RouterTests.auth(credential),
                body: ByteBuffer(string: RouterTests.registration("a"))
            ) { try JSONDecoder().decode(AgentOrders.self, from: Data($0.body.readableBytesView)) }
            #expect(again.credential == nil && again.relayToken == orders.relayToken)
            #expect(
                try await Self.status(
                    client, .post, "/v1/agents/a/heartbeat", RouterTests.auth(credential), body: Self.beat
                ).0 == 200)
        }
    }

    /// Node B's credential, the bootstrap token and users' tokens on every route of node A.
    @Test func nodeBsCredentialIsRefusedOnEveryRouteOfNodeA() async throws {
        try await Self.withRouter(store: try SQLiteStore(path: nil)) { _, client in
            _ = try await RouterTests.register("a", client)
            let b = try await RouterTests.register("b", client)
            for headers in [
                b, RouterTests.bootstrap, RouterTests.auth("admin-token-0123456789"),
                RouterTests.auth("acme-token-0123456789"),
            ] {
                #expect(
                    try await Self.status(client, .post, "/v1/agents/a/heartbeat", headers, body: Self.beat).0 == 403)
                #expect(try await Self.status(client, .get, "/v1/agents/a/allocations?wait=0", headers).0 == 403)
            }
            #expect(
                try await Self.status(client, .post, "/v1/agents/register", b, body: RouterTests.registration("a")).0
                    == 403)
            // A node's credential is for its agent routes only.
            for (method, uri) in [
                (HTTPRequest.Method.get, "/v1/nodes"), (.get, "/v1/jobs"), (.get, "/v1/dead-letters"),
                (.delete, "/v1/nodes/a"),
            ] {
                #expect(try await Self.status(client, method, uri, b).0 == 403, "\(method) \(uri)")
            }
        }
    }

    /// A node reported another node's allocation `completed` and the task was done though it never ran.
    @Test func aHeartbeatAboutAnotherNodesAllocationChangesNothing() async throws {
        try await Self.withRouter(store: try SQLiteStore(path: nil)) { scheduler, client in
            let a = try await RouterTests.register("a", client)
            let job = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: RouterTests.auth("acme-token-0123456789"),
                body: ByteBuffer(string: RouterTests.job)
            ) { try JSONDecoder().decode(JobView.self, from: Data($0.body.readableBytesView)) }
            let allocation = try await client.execute(
                uri: "/v1/agents/a/allocations?wait=5", method: .get, headers: a
            ) {
                try #require(
                    try JSONDecoder().decode(AgentOrders.self, from: Data($0.body.readableBytesView)).allocations.first)
            }
            let b = try await RouterTests.register("b", client)
            let forged = Heartbeat(
                usage: .idle, reports: [AllocationReport(id: allocation.id, state: .exited, exitCode: 0)])
            #expect(
                try await Self.status(
                    client, .post, "/v1/agents/b/heartbeat", b,
                    body: String(decoding: try JSONEncoder.api.encode(forged), as: UTF8.self)
                ).0 == 200)
            let task = try #require(await scheduler.tasks(of: job.id).first)
            #expect(task.state == .scheduled, "b's word about a's allocation is ignored: \(task.state)")
        }
    }

    /// The state file holds the credential's SHA-256, never the credential or a configured token.
    @Test func theStateFileNeverContainsACredentialOrAToken() async throws {
        let directory = TemporaryDirectory("corral-credential")
        let path = directory.path + "/state.sqlite"
        let credential = try await Self.withRouter(store: try SQLiteStore(path: path)) { _, client in
            let header = try await RouterTests.register("a", client)
            return String(try #require(header[.authorization]).dropFirst("Bearer ".count))
        }
        var bytes = Data()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            bytes += try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + file))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"a\""), "the node record is in the state file")
        #expect(text.contains(TokenDigest.hex(of: credential)), "its credential's digest is")
        for secret in [credential, "agent-token-0123456789", "admin-token-0123456789"] {
            #expect(!text.contains(secret), "\(secret) is in the state file")
        }
    }

    /// After `corral node forget`, the node's credential is void, its task is placed again, and its agent
    /// (or a new machine) registers with the bootstrap token; the credential survives a scheduler restart.
    @Test func forgettingANodeVoidsItsCredentialAndRequeuesItsTasks() async throws {
        let store = try SQLiteStore(path: nil)
        let a = try await Self.withRouter(store: store) { _, client in try await RouterTests.register("a", client) }
        try await Self.withRouter(store: store) { scheduler, client in
            #expect(try await Self.status(client, .post, "/v1/agents/a/heartbeat", a, body: Self.beat).0 == 200)
            _ = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: RouterTests.auth("acme-token-0123456789"),
                body: ByteBuffer(string: RouterTests.job)
            ) { #expect($0.status == .created) }
            // Placement follows the acknowledgement: the long-poll answers once the task is placed on a.
            let placed = try await client.execute(uri: "/v1/agents/a/allocations?wait=5", method: .get, headers: a) {
                try JSONDecoder().decode(AgentOrders.self, from: Data($0.body.readableBytesView)).allocations.count
            }
            #expect(placed == 1)
            let forgotten = try await client.execute(
                uri: "/v1/nodes/a", method: .delete, headers: RouterTests.auth("admin-token-0123456789")
            ) { try JSONDecoder().decode(NodeForgotten.self, from: Data($0.body.readableBytesView)) }
            #expect(forgotten == NodeForgotten(node: "a", requeued: 1))
            #expect(try await Self.status(client, .post, "/v1/agents/a/heartbeat", a, body: Self.beat).0 == 401)
            #expect(await scheduler.nodes.isEmpty)
            let again = try await Self.status(
                client, .delete, "/v1/nodes/a", RouterTests.auth("admin-token-0123456789"))
            #expect(again.0 == 404)
            let fresh = try await RouterTests.register("a", client)
            #expect(fresh != a)
        }
    }

    @Test func metricsNeedTheAdminOrTheMetricsTokenUnlessConfiguredPublic() async throws {
        var config = RouterTests.config
        config.metricsToken = "metrics-token-0123456789"
        let metrics = RouterTests.auth("metrics-token-0123456789")
        let codes = try await Self.withRouter(store: try SQLiteStore(path: nil), config: config) { _, client in
            var codes: [Int] = []
            for headers in [
                HTTPFields(), RouterTests.auth("acme-token-0123456789"), metrics,
                RouterTests.auth("admin-token-0123456789"),
            ] {
                codes.append(try await Self.status(client, .get, "/metrics", headers).0)
            }
            codes.append(try await Self.status(client, .get, "/v1/jobs", metrics).0)
            return codes
        }
        #expect(codes == [401, 403, 200, 200, 403], "none, a tenant, metrics, admin; metrics on /v1/jobs")
        config.metricsPublic = true
        let open = try await Self.withRouter(store: try SQLiteStore(path: nil), config: config) { _, client in
            try await Self.status(client, .get, "/metrics", HTTPFields()).0
        }
        #expect(open == 200)
    }

    /// A configuration may hold `sha256:` forms instead of tokens; they authenticate the same.
    @Test func aConfigurationWithHashedTokensAuthenticatesTheTokens() async throws {
        var config = RouterTests.config
        config.adminToken = TokenDigest.prefix + TokenDigest.hex(of: "admin-token-0123456789")
        config.tenants["acme"]?.token = TokenDigest.prefix + TokenDigest.hex(of: "acme-token-0123456789")
        #expect(config.problems().isEmpty)
        #expect(config.principal(token: "admin-token-0123456789") == .admin)
        #expect(config.principal(token: config.adminToken) == nil, "the digest itself is no token")
        config.tenants["globex"]?.token = TokenDigest.prefix + "abc"
        #expect(config.problems().map(\.field) == ["tenants.globex.token"])
    }

    /// A store that fails every write with a message that must stay in the scheduler's log.
    struct FailingStore: StateStore {
        struct Secret: Error, CustomStringConvertible {
            var description: String { "disk /dev/secret-volume failed at sector 42" }
        }
        let base: SQLiteStore
        func get(_ key: String) async throws -> KeyValue? { try await base.get(key) }
        func list(prefix: String, limit: Int?) async throws -> (items: [KeyValue], revision: Revision) {
            try await base.list(prefix: prefix, limit: limit)
        }
        func txn(if compares: [Compare], then: [Op], else: [Op]) async throws -> TxnResult { throw Secret() }
        func watch(prefix: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error> {
            base.watch(prefix: prefix, after: after)
        }
        func compact(upTo: Revision) async throws { try await base.compact(upTo: upTo) }
    }

    /// An unexpected failure answered 500 with the error's text (NIO's, or the store's); now the client
    /// gets an id to quote and the text stays in the log.
    @Test func anInternalErrorGivesTheClientAnIdAndNotItsText() async throws {
        let body = try await Self.withRouter(store: FailingStore(base: try SQLiteStore(path: nil))) { _, client in
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: RouterTests.auth("acme-token-0123456789"),
                body: ByteBuffer(string: RouterTests.job)
            ) { response in
                #expect(response.status == .internalServerError)
                return String(buffer: response.body)
            }
        }
        #expect(!body.contains("secret-volume"), "\(body)")
        #expect(body.contains("\"internal\"") && body.contains("internal error "), "\(body)")
    }

    /// The body limit is the configuration's: a job over it is 413 naming the limit.
    @Test func theRequestBodyLimitIsConfigurable() async throws {
        var config = RouterTests.config
        config.maxRequestBodyBytes = 4096
        #expect(config.problems().isEmpty)
        let padded =
            #"{"name": "big", "tenant": "acme", "command": ["/bin/true"], "env": {"X": ""#
            + String(repeating: "x", count: 5000) + #""}}"#
        let answer = try await Self.withRouter(store: try SQLiteStore(path: nil), config: config) { _, client in
            try await Self.status(client, .post, "/v1/jobs", RouterTests.auth("acme-token-0123456789"), body: padded)
        }
        #expect(answer == (413, "too_large"))
        config.maxRequestBodyBytes = 10
        #expect(config.problems().map(\.field) == ["maxRequestBodyBytes"])
    }
}
