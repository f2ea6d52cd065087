import Console
import CorralModel
import CorralProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console at `/ui/`: sign-in with a token, pages rendered here, live regions over server-sent
/// events, and a task's log followed over the same. Its actions (cancel, drain, undrain) are the API's
/// own routes, called by the page's script with the session's CSRF token.
extension SchedulerAPI {
    /// What every console page may load and talk to: this origin only, no inline script, no framing.
    static let consolePolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    /// Open event streams at most (pages and logs together), and at most per admin or tenant; one more is
    /// told to come back later.
    static let maxConsoleStreams = 256
    static let maxConsoleStreamsPerViewer = 32

    func addConsoleRoutes(_ router: Router<SchedulerRequestContext>) {
        let tokens = TokenTable(config)
        router.get("/ui/console.css") { _, _ in
            Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8")
        }
        router.get("/ui/console.js") { _, _ in
            Self.asset(ConsoleAssets.javascript, type: "text/javascript; charset=utf-8")
        }
        router.get("/ui/login") { _, context in
            if context.session != nil { return Self.redirect("/ui/") }
            return Self.html(ConsoleLayout.signIn(error: nil))
        }
        router.post("/ui/login") { request, _ in
            guard Self.sameOrigin(request) else {
                return Self.html(
                    ConsoleLayout.signIn(error: "Sign in from this console's own page."), status: .forbidden)
            }
            let body = try await Self.body(of: request, upTo: 4096)
            let token = Self.formField("token", in: String(buffer: body)) ?? ""
            guard let principal = tokens.principal(digest: TokenDigest.of(token)), principal.isUser else {
                return Self.html(
                    ConsoleLayout.signIn(error: "That token is not an admin's or a tenant's."), status: .unauthorized)
            }
            let (id, _) = sessions.create(for: principal)
            var response = Self.redirect("/ui/")
            response.headers[.setCookie] = sessions.setCookie(id, secure: secureCookies)
            return response
        }
        router.post("/ui/logout") { _, context in
            if let id = context.session { sessions.end(id) }
            var response = try json(["signedOut": true])
            response.headers[.setCookie] = sessions.setCookie(nil, secure: secureCookies)
            return response
        }
        router.get("/ui/") { request, context in try await page(.overview, request, context) }
        router.get("/ui/nodes") { request, context in try await page(.nodes, request, context) }
        router.get("/ui/tenants") { request, context in try await page(.tenants, request, context) }
        router.get("/ui/capacity") { request, context in try await page(.capacity, request, context) }
        router.get("/ui/jobs") { request, context in
            let query = request.uri.queryParameters
            guard
                let jobs = ConsolePage(
                    page: "jobs", job: nil, tenant: query.get("tenant"), state: query.get("state"))
            else {
                throw APIError.badRequest(
                    "state: not a job state", problems: [ValueError(field: "state", message: "not a job state")])
            }
            return try await page(jobs, request, context)
        }
        router.get("/ui/jobs/:id") { request, context in
            let text = try context.parameters.require("id")
            guard let id = JobID(text) else { throw APIError.notFound("job \(text)") }
            return try await page(.job(id), request, context)
        }
        router.get("/ui/stream") { request, context in
            let viewer = try viewer(try context.caller())
            let query = request.uri.queryParameters
            guard
                let page = ConsolePage(
                    page: query.get("page") ?? "", job: query.get("job"), tenant: query.get("tenant"),
                    state: query.get("state")), page != .capacity
            else {
                throw APIError.badRequest(
                    "page: not a page with live regions",
                    problems: [ValueError(field: "page", message: "overview, nodes, jobs, job or tenants")])
            }
            try await authorize(page, viewer)
            return regionStream(page, viewer: viewer, session: context.session)
        }
        addConsoleLogRoute(router)
    }

    /// A whole page for the signed-in viewer; the sign-in page for a browser without a session.
    func page(_ page: ConsolePage, _ request: Request, _ context: SchedulerRequestContext) async throws -> Response {
        guard let who = context.principal else { return Self.redirect("/ui/login") }
        let viewer = try viewer(who)
        try await authorize(page, viewer)
        let query = request.uri.queryParameters
        let data = try await consoleData(page, viewer: viewer) { query.get($0) }
        let csrf = context.session.flatMap { sessions.session($0)?.csrf } ?? ""
        return Self.html(ConsoleRender.document(page, data: data, viewer: viewer, csrf: csrf))
    }

    /// Server-sent events: each second, the page's regions that changed since the last one sent (all of them
    /// first), and a comment every 15 s so that proxies keep the connection. The stream ends after an hour
    /// (the browser reconnects on its own), or at once when the session is signed out.
    func regionStream(_ page: ConsolePage, viewer: ConsoleViewer, session: String?) -> Response {
        Self.eventStream(sessions: sessions, viewer: "\(viewer)") { writer in
            var sent: [String: String] = [:]
            var quiet = 0
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(3600) {
                if let session, sessions.session(session) == nil {
                    try await writer.write(Self.event("signed-out", ["reason": "signed out"]))
                    return
                }
                let data = try await liveData.data("\(viewer)|\(page)") {
                    try await consoleData(page, viewer: viewer)
                }
                var wrote = false
                for region in ConsoleRender.regions(page, data: data, viewer: viewer)
                where sent[region.id] != region.html {
                    try await writer.write(Self.event("region", ["id": region.id, "html": region.html]))
                    sent[region.id] = region.html
                    wrote = true
                }
                quiet = wrote ? 0 : quiet + 1
                if quiet >= 15 {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quiet = 0
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// A `text/event-stream` response whose events `produce` writes; at most `maxConsoleStreams` at once.
    static func eventStream(
        sessions: ConsoleSessions, viewer: String,
        _ produce: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream", .cacheControl: "no-store", .contentSecurityPolicy: consolePolicy,
            ],
            body: ResponseBody { writer in
                guard
                    sessions.openStream(
                        viewer: viewer, limit: maxConsoleStreams, perViewer: maxConsoleStreamsPerViewer)
                else {
                    try await writer.write(event("busy", ["reason": "too many console streams: retrying"]))
                    try await writer.finish(nil)
                    return
                }
                defer { sessions.closeStream(viewer: viewer) }
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                do { try await produce(&writer) } catch is CancellationError { return }
                try await writer.finish(nil)
            })
    }

    /// One server-sent event: its name and a JSON object on one `data:` line.
    static func event(_ name: String, _ fields: [String: String]) -> ByteBuffer {
        let data = (try? JSONEncoder().encode(fields)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "event: \(name)\ndata: \(data)\n\n")
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: consolePolicy, .xContentTypeOptions: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "same-origin",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache", .xContentTypeOptions: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// Whether a browser's request comes from a page of this origin: no `Origin` header (not a
    /// cross-site browser request), or one whose host and port are the request's `Host`.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let url = URL(string: origin), let host = url.host else { return false }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        return request.head.authority == authority
    }

    /// A field of an `application/x-www-form-urlencoded` body.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
