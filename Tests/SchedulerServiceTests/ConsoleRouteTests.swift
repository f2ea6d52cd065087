import Console
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

/// The console's sign-in, session cookie, CSRF check and tenant isolation, through the router (no
/// socket); the browser's view of the same is ClusterTests' ConsoleTests.
@Suite struct ConsoleRouteTests {
    static let acme = "acme-token-0123456789"
    static let globex = "globex-token-012345678"
    static let admin = "admin-token-0123456789"

    static func app(secureCookies: Bool = false) async throws -> some ApplicationProtocol {
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: try UsageHistory(path: nil),
            configuration: SchedulerCore.Configuration(quotas: RouterTests.config.quotas), logger: Logger(label: "test")
        )
        try await scheduler.start()
        return Application(
            router: SchedulerAPI(scheduler: scheduler, config: RouterTests.config, secureCookies: secureCookies)
                .router())
    }

    /// Signs in with `token`: the `Cookie` header of the session, and the page's CSRF token.
    static func signIn(_ token: String, _ client: some TestClientProtocol) async throws -> (
        cookie: HTTPFields, csrf: String
    ) {
        let setCookie = try await client.execute(
            uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "token=" + token)
        ) { response in
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/ui/")
            return try #require(response.headers[.setCookie])
        }
        let session = String(setCookie.split(separator: ";")[0])
        let cookie: HTTPFields = [.cookie: session]
        let csrf = try await client.execute(uri: "/ui/", method: .get, headers: cookie) { response in
            #expect(response.status == .ok)
            let page = String(buffer: response.body)
            let marker = #"<meta name="csrf-token" content=""#
            let start = try #require(page.range(of: marker)).upperBound
            return String(page[start...].prefix(64))
        }
        return (cookie, csrf)
    }

    static func submit(_ token: String, tenant: String, _ client: some TestClientProtocol) async throws -> String {
        try await client.execute(
            uri: "/v1/jobs", method: .post, headers: RouterTests.auth(token),
            body: ByteBuffer(
                string: #"{"name": "secret-\#(tenant)", "tenant": "\#(tenant)", "command": ["/bin/true"]}"#)
        ) { response in
            #expect(response.status == .created)
            let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
            return try #require((object as? [String: Any])?["id"] as? String)
        }
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndRefusesOtherTokens() async throws {
        try await Self.app().test(.router) { client in
            let setCookie = try await client.execute(
                uri: "/ui/login", method: .post, body: ByteBuffer(string: "token=" + Self.acme)
            ) { response in response.headers[.setCookie] ?? "" }
            #expect(setCookie.hasPrefix("corral_session="))
            for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] { #expect(setCookie.contains(flag), "\(setCookie)") }
            #expect(!setCookie.contains("Secure"), "no Secure flag without TLS: \(setCookie)")
            // A wrong token, the agents' token and the metrics of nobody: the sign-in page again, no cookie.
            for token in ["wrong-token-0123456789", "agent-token-0123456789", ""] {
                try await client.execute(uri: "/ui/login", method: .post, body: ByteBuffer(string: "token=\(token)")) {
                    response in
                    #expect(response.status == .unauthorized, "\(token)")
                    #expect(response.headers[.setCookie] == nil)
                    #expect(String(buffer: response.body).contains("not an admin's or a tenant's"))
                }
            }
            // A form posted from another site's page is refused.
            try await client.execute(
                uri: "/ui/login", method: .post, headers: [.origin: "https://elsewhere.example"],
                body: ByteBuffer(string: "token=" + Self.acme)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.setCookie] == nil)
            }
        }
        try await Self.app(secureCookies: true).test(.router) { client in
            try await client.execute(uri: "/ui/login", method: .post, body: ByteBuffer(string: "token=" + Self.admin)) {
                response in
                #expect(response.headers[.setCookie]?.contains("; Secure") == true)
            }
        }
    }

    @Test func pagesNeedASessionAndCarryAStrictPolicy() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/login")
            }
            // A cookie the scheduler never issued is no session.
            let forged: HTTPFields = [.cookie: "corral_session=" + String(repeating: "ab", count: 32)]
            try await client.execute(uri: "/v1/jobs", method: .get, headers: forged) { response in
                #expect(response.status == .unauthorized)
            }
            let (cookie, _) = try await Self.signIn(Self.admin, client)
            for path in ["/ui/", "/ui/nodes", "/ui/jobs", "/ui/tenants", "/ui/capacity"] {
                try await client.execute(uri: path, method: .get, headers: cookie) { response in
                    #expect(response.status == .ok, "\(path)")
                    let policy = response.headers[.contentSecurityPolicy] ?? ""
                    #expect(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"), "\(path)")
                    let page = String(buffer: response.body).replacingOccurrences(
                        of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
                    #expect(!page.contains("http://") && !page.contains("https://"), "\(path) names another origin")
                }
            }
        }
    }

    @Test func anActionOnASessionNeedsItsCSRFToken() async throws {
        try await Self.app().test(.router) { client in
            let job = try await Self.submit(Self.acme, tenant: "acme", client)
            let (cookie, csrf) = try await Self.signIn(Self.acme, client)
            var wrong = cookie
            wrong[ConsoleSessions.csrfHeader] = String(repeating: "0", count: 64)
            for headers in [cookie, wrong] {
                try await client.execute(uri: "/v1/jobs/\(job)", method: .delete, headers: headers) { response in
                    #expect(response.status == .forbidden)
                    #expect(RouterTests.errorCode(response) == "csrf")
                }
                try await client.execute(uri: "/ui/logout", method: .post, headers: headers) { response in
                    #expect(response.status == .forbidden)
                }
            }
            var right = cookie
            right[ConsoleSessions.csrfHeader] = csrf
            try await client.execute(uri: "/v1/jobs/\(job)", method: .delete, headers: right) { response in
                #expect(response.status == .ok)
            }
            // Signing out ends the session: the same cookie opens nothing afterwards.
            try await client.execute(uri: "/ui/logout", method: .post, headers: right) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/v1/jobs", method: .get, headers: cookie) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func aTenantsConsoleShowsNothingOfAnotherTenant() async throws {
        try await Self.app().test(.router) { client in
            let theirs = try await Self.submit(Self.globex, tenant: "globex", client)
            let ours = try await Self.submit(Self.acme, tenant: "acme", client)
            let (cookie, _) = try await Self.signIn(Self.acme, client)
            for path in ["/ui/", "/ui/jobs", "/ui/tenants", "/ui/jobs/\(ours)"] {
                try await client.execute(uri: path, method: .get, headers: cookie) { response in
                    #expect(response.status == .ok, "\(path)")
                    let page = String(buffer: response.body)
                    #expect(
                        !page.contains(theirs) && !page.contains("secret-globex") && !page.contains(">globex<"),
                        "\(path)")
                }
            }
            try await client.execute(uri: "/ui/jobs", method: .get, headers: cookie) { response in
                #expect(String(buffer: response.body).contains(ours))
            }
            for path in [
                "/ui/jobs/\(theirs)", "/ui/stream?page=job&job=\(theirs)", "/ui/stream?page=jobs&tenant=globex",
                "/ui/nodes", "/ui/capacity", "/ui/stream?page=nodes", "/ui/logs/\(theirs).0.1/stdout",
                "/ui/jobs?tenant=globex",
            ] {
                try await client.execute(uri: path, method: .get, headers: cookie) { response in
                    #expect(response.status == .forbidden, "\(path)")
                    #expect(!String(buffer: response.body).contains("secret-globex"), "\(path)")
                }
            }
            try await client.execute(uri: "/ui/stream?page=elsewhere", method: .get, headers: cookie) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func sessionsAreBoundedAndExpire() {
        let sessions = ConsoleSessions(capacity: 3, lifetime: 60)
        let ids = (0..<5).map { sessions.create(for: .tenant("t\($0)"), now: 1000 + Double($0)).id }
        #expect(sessions.count == 3)
        #expect(sessions.session(ids[0], now: 1010) == nil && sessions.session(ids[1], now: 1010) == nil)
        #expect(sessions.session(ids[4], now: 1010)?.principal == .tenant("t4"))
        #expect(sessions.session(ids[4], now: 1100) == nil, "past its lifetime")
        #expect(ConsoleSessions.cookie(in: [.cookie: "a=b; corral_session=\(ids[2])"]) == ids[2])
        #expect(ConsoleSessions.cookie(in: [.cookie: "corral_session=../../etc"]) == nil)
        // Event streams: one viewer cannot take every slot.
        #expect((0..<2).allSatisfy { _ in sessions.openStream(viewer: "a", limit: 3, perViewer: 2) })
        #expect(!sessions.openStream(viewer: "a", limit: 3, perViewer: 2), "a's own bound")
        #expect(sessions.openStream(viewer: "b", limit: 3, perViewer: 2))
        #expect(!sessions.openStream(viewer: "c", limit: 3, perViewer: 2), "the bound of all")
        sessions.closeStream(viewer: "a")
        #expect(sessions.openStream(viewer: "c", limit: 3, perViewer: 2) && sessions.openStreams == 3)
    }

    @Test func whatTheConsoleDrawsIsEscaped() {
        var data = ConsoleData(now: 1_000_000)
        let hostile = "<img src=x onerror=alert(1)>"
        data.nodes = [
            NodeStatus(
                id: NodeID("n1"), ready: true, lastSeen: 1_000_000, capacity: .zero, reserved: .zero, running: 0,
                labels: ["zone": hostile], usage: .idle, info: [:])
        ]
        data.alerts = [
            AlertNotification(
                id: "1", status: "firing", rule: hostile, kind: "node-down", subject: hostile, summary: hostile,
                startsAt: 1, sentAt: 1)
        ]
        for page in [ConsolePage.nodes, .overview] {
            let html = ConsoleRender.regions(page, data: data, viewer: .admin).map(\.html).joined()
            #expect(!html.contains("<img"), "\(page)")
            #expect(html.contains("&lt;img"), "\(page)")
        }
    }
}
