import CorralClient
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

/// Every route through Hummingbird's router test client (no socket): auth, tenant isolation, JSON errors.
@Suite struct RouterTests {
    static let config = SchedulerConfig(
        adminToken: "admin-token-0123456789", agentToken: "agent-token-0123456789",
        tenants: [
            "acme": .init(token: "acme-token-0123456789", quota: .init(cpu: 2)),
            "globex": .init(token: "globex-token-012345678"),
        ])

    /// The API over an in-memory store; with `checkpoints`, a checkpoint store in that directory.
    static func app(checkpoints: String? = nil) async throws -> some ApplicationProtocol {
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: try UsageHistory(path: nil),
            configuration: SchedulerCore.Configuration(quotas: config.quotas), logger: Logger(label: "test"),
            checkpoints: try checkpoints.map { try CheckpointStore(directory: $0 + "/checkpoints", maxBytes: 1 << 20) })
        try await scheduler.start()
        return Application(router: SchedulerAPI(scheduler: scheduler, config: config).router())
    }

    static func auth(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
    static let bootstrap = auth("agent-token-0123456789")

    static func registration(_ node: String) -> String {
        #"{"node": ""# + node
            + #"", "capacity": {"cpuMillis": 4000, "memory": 4294967296, "ioRead": 0, "ioWrite": 0, "pids": 0}}"#
    }

    /// Registers `node` with the bootstrap token; the `Authorization` header of the credential it got.
    static func register(_ node: String, _ client: some TestClientProtocol) async throws -> HTTPFields {
        try await client.execute(
            uri: "/v1/agents/register", method: .post, headers: auth("agent-token-0123456789"),
            body: ByteBuffer(string: registration(node))
        ) { response in
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let orders = try JSONDecoder().decode(AgentOrders.self, from: Data(response.body.readableBytesView))
            return auth(try #require(orders.credential, "a registration with the bootstrap token has a credential"))
        }
    }
    static let job = #"{"name": "web", "tenant": "acme", "command": ["/bin/true"], "resources": {"cpu": "500m"}}"#

    static func errorCode(_ response: TestResponse) -> String {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return ((object?["error"] as? [String: Any])?["code"] as? String) ?? "none"
    }

    @Test func tenantsSeeAndTouchOnlyTheirOwnJobs() async throws {
        try await Self.app().test(.router) { client in
            let id = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: Self.auth("acme-token-0123456789"),
                body: ByteBuffer(string: Self.job)
            ) { response in
                #expect(response.status == .created)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                return try #require((object as? [String: Any])?["id"] as? String)
            }
            // (token, method, path, expected status)
            let matrix: [(String, HTTPRequest.Method, String, Int)] = [
                ("acme-token-0123456789", .get, "/v1/jobs/\(id)", 200),
                ("acme-token-0123456789", .get, "/v1/jobs/\(id)/tasks", 200),
                ("globex-token-012345678", .get, "/v1/jobs/\(id)", 403),
                ("globex-token-012345678", .get, "/v1/jobs/\(id)/tasks", 403),
                ("globex-token-012345678", .delete, "/v1/jobs/\(id)", 403),
                ("agent-token-0123456789", .get, "/v1/jobs/\(id)", 403),
                ("admin-token-0123456789", .get, "/v1/jobs/\(id)", 200),
                ("nobody", .get, "/v1/jobs/\(id)", 401),
                ("acme-token-0123456789", .get, "/v1/nodes", 403),
                ("agent-token-0123456789", .get, "/v1/nodes", 403),
                ("admin-token-0123456789", .get, "/v1/nodes", 200),
                ("acme-token-0123456789", .get, "/v1/tenants/acme/quota", 200),
                ("acme-token-0123456789", .get, "/v1/tenants/globex/quota", 403),
                ("acme-token-0123456789", .get, "/v1/dead-letters", 403),
                ("admin-token-0123456789", .get, "/v1/dead-letters", 200),
                ("acme-token-0123456789", .post, "/v1/agents/register", 403),
                ("acme-token-0123456789", .get, "/v1/agents/n1/allocations?wait=0", 403),
                ("agent-token-0123456789", .get, "/v1/agents/n1/allocations?wait=0", 403),
                ("admin-token-0123456789", .get, "/v1/agents/n1/allocations?wait=0", 403),
                ("admin-token-0123456789", .get, "/v1/jobs/nope", 404),
            ]
            for (token, method, path, status) in matrix {
                try await client.execute(uri: path, method: method, headers: Self.auth(token)) { response in
                    #expect(Int(response.status.code) == status, "\(token) \(method) \(path)")
                    if status >= 400 { #expect(Self.errorCode(response) != "none", "errors are JSON with a code") }
                }
            }
            let listed = try await client.execute(
                uri: "/v1/jobs", method: .get, headers: Self.auth("globex-token-012345678")
            ) {
                try JSONSerialization.jsonObject(with: Data($0.body.readableBytesView)) as? [Any]
            }
            #expect(listed?.isEmpty == true, "another tenant's list does not show acme's job")
            try await client.execute(
                uri: "/v1/jobs/\(id)", method: .delete, headers: Self.auth("acme-token-0123456789")
            ) { response in #expect(response.status == .ok) }
        }
    }

    @Test func malformedBodiesAre400NamingTheField() async throws {
        try await Self.app().test(.router) { client in
            let bad = #"{"name": "x", "tenant": "acme", "command": ["/bin/true"], "resources": {"memory": "12XB"}}"#
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: Self.auth("acme-token-0123456789"),
                body: ByteBuffer(string: bad)
            ) { response in
                #expect(response.status == .badRequest)
                let text = String(buffer: response.body)
                #expect(text.contains(#""field":"resources.memory""#), "\(text)")
                #expect(Self.errorCode(response) == "invalid_request")
            }
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: Self.auth("acme-token-0123456789"),
                body: ByteBuffer(string: "{not json")
            ) { response in #expect(response.status == .badRequest) }
            try await client.execute(
                uri: "/v1/agents/register", method: .post, headers: Self.auth("agent-token-0123456789"),
                body: ByteBuffer(string: #"{"node": "n1"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("capacity"))
            }
            let capacity = #""capacity": {"cpuMillis": 1000, "memory": 1, "ioRead": 0, "ioWrite": 0, "pids": 0}"#
            try await client.execute(
                uri: "/v1/agents/register", method: .post, headers: Self.auth("agent-token-0123456789"),
                body: ByteBuffer(string: #"{"node": "../n1", "# + capacity + "}")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains(#""field":"node""#), "\(String(buffer: response.body))")
            }
            let node = try await Self.register("n1", client)
            try await client.execute(
                uri: "/v1/agents/n1/heartbeat", method: .post, headers: node,
                body: ByteBuffer(
                    string: #"{"usage": {"cpu": 0, "memory": 0, "io": 0}, "allocations": [], "running": ["x/y"]}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(
                    String(buffer: response.body).contains(#""field":"running.0""#), "\(String(buffer: response.body))")
            }
        }
    }

    @Test func aJobOverItsTenantsQuotaIs422AndSubmittingForAnotherTenantIs403() async throws {
        try await Self.app().test(.router) { client in
            let big = #"{"name": "big", "tenant": "acme", "command": ["/bin/true"], "resources": {"cpu": 3}}"#
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: Self.auth("acme-token-0123456789"),
                body: ByteBuffer(string: big)
            ) { response in
                #expect(response.status.code == 422)
                #expect(Self.errorCode(response) == "over_quota")
            }
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: Self.auth("globex-token-012345678"),
                body: ByteBuffer(string: Self.job)
            ) { response in #expect(response.status == .forbidden) }
        }
    }

    /// The routes the router really registers, as `method /path/{param}`.
    static func registered(_ router: Router<SchedulerRequestContext>) -> Set<String> {
        Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path)" })
    }

    @Test func theOpenAPIDocumentListsExactlyTheRoutesTheRouterRegisters() async throws {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(
            paths.flatMap { path, item in item.keys.filter { $0 != "parameters" }.map { "\($0) \(path)" } })
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: try UsageHistory(path: nil),
            configuration: SchedulerCore.Configuration(quotas: Self.config.quotas), logger: Logger(label: "test"))
        let all = Self.registered(SchedulerAPI(scheduler: scheduler, config: Self.config).router())
        // The web console's pages are not API: they are documented in docs/console.md.
        let registered = all.filter { !$0.contains(" /ui") }
        #expect(
            all.subtracting(registered)
                == [
                    "get /ui", "get /ui/capacity", "get /ui/console.css", "get /ui/console.js", "get /ui/jobs",
                    "get /ui/jobs/{id}", "get /ui/login", "get /ui/logs/{id}/{stream}", "get /ui/nodes",
                    "get /ui/stream", "get /ui/tenants", "post /ui/login", "post /ui/logout",
                ])
        #expect(registered.count == OpenAPIDocument.routes.count, "\(registered.sorted())")
        let documentedOnly = documented.subtracting(registered).sorted()
        let registeredOnly = registered.subtracting(documented).sorted()
        #expect(documented == registered, "documented only: \(documentedOnly); registered only: \(registeredOnly)")
        // The list the error middleware answers 405 from is the router's too.
        #expect(Set(OpenAPIDocument.routes.map { "\($0.method) \($0.path)" }) == registered)
    }

    /// Each route, called with a real job, tenant, node and allocation: neither 404 nor 405 (which an
    /// unregistered but documented route would answer).
    @Test func everyRouteAnswersForRealObjects() async throws {
        let directory = TemporaryDirectory("corral-router")
        try await Self.app(checkpoints: directory.path).test(.router) { client in
            let admin = Self.auth("admin-token-0123456789")
            let registration = Self.registration("n1")
            // The node's own credential for every agent route (the bootstrap token only registers new nodes).
            let agent = try await Self.register("n1", client)
            let job = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: admin, body: ByteBuffer(string: Self.job)
            ) { response in
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                return try #require((object as? [String: Any])?["id"] as? String)
            }
            let allocation = try await client.execute(
                uri: "/v1/agents/n1/allocations?wait=5", method: .get, headers: agent
            ) { response in
                let orders = try JSONDecoder().decode(AgentOrders.self, from: Data(response.body.readableBytesView))
                return try #require(orders.allocations.first?.id.description, "the job was placed on n1")
            }
            let bodies = ["post /v1/jobs": Self.job, "post /v1/agents/register": registration]
            // DELETE last: it cancels the job the other routes read.
            for route in OpenAPIDocument.routes.sorted(by: {
                ($0.method == "delete" ? 1 : 0) < ($1.method == "delete" ? 1 : 0)
            }) {
                let uri = route.path.replacingOccurrences(
                    of: "/v1/allocations/{id}", with: "/v1/allocations/\(allocation)"
                )
                .replacingOccurrences(of: "{id}", with: job).replacingOccurrences(of: "{tenant}", with: "acme")
                .replacingOccurrences(of: "{node}", with: "n1").replacingOccurrences(of: "{stream}", with: "stdout")
                .replacingOccurrences(of: "{allocation}", with: allocation)
                let method = try #require(HTTPRequest.Method(rawValue: route.method.uppercased()))
                let key = "\(route.method) \(route.path)"
                try await client.execute(
                    uri: uri + (uri.hasSuffix("allocations") ? "?wait=0" : ""), method: method,
                    headers: route.path.hasPrefix("/v1/agents") ? agent : admin,
                    body: ByteBuffer(string: bodies[key] ?? "{}")
                ) { response in
                    // A task with no checkpoint yet is a 404 of its own.
                    let none = response.status.code == 404 && String(buffer: response.body).contains("no_checkpoint")
                    #expect(
                        none || ![404, 405].contains(response.status.code),
                        "\(key) at \(uri): \(response.status.code) \(String(buffer: response.body))")
                }
            }
        }
    }
}
