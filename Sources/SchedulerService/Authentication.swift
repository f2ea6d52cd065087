import CorralProtocol
import CorralTLS
import Crypto
import Hummingbird
import NIOCore
import NIOSSL
import Scheduler

/// Who a bearer token belongs to.
public enum Principal: Sendable, Equatable, CustomStringConvertible {
    case admin
    /// The bootstrap (agent) token: it can only register a node id not yet claimed.
    case agent
    /// The holder of a node's credential: its agent.
    case node(NodeID)
    case tenant(String)
    /// The metrics token: `/metrics` only.
    case metrics

    public var description: String {
        switch self {
        case .admin: "admin"
        case .agent: "the bootstrap agent token"
        case .node(let node): "node \(node)"
        case .tenant(let name): "tenant(\(name))"
        case .metrics: "the metrics token"
        }
    }

    /// The bootstrap token or a node's credential.
    var isAgent: Bool {
        switch self {
        case .agent, .node: true
        case .admin, .tenant, .metrics: false
        }
    }

    /// An admin or a tenant: a user of jobs and logs.
    var isUser: Bool {
        switch self {
        case .admin, .tenant: true
        case .agent, .node, .metrics: false
        }
    }
}

/// Tokens as the scheduler keeps them: SHA-256 digests. A configured token is the token itself or
/// `sha256:` and its digest in hex (what `corral token hash` prints); either way only the digest stays in
/// memory, and a presented token is hashed and compared against every configured digest in constant time.
public enum TokenDigest {
    public static let prefix = "sha256:"

    public static func of(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }
    public static func hex(of token: String) -> String { Secrets.hex(of(token)) }

    /// The digest a configured value stands for, or nil for a malformed `sha256:` value.
    public static func configured(_ value: String) -> [UInt8]? {
        guard value.hasPrefix(prefix) else { return of(value) }
        let hex = Array(value.dropFirst(prefix.count).utf8)
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: hex[index...index + 1], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// Whether a configured value is long enough: 16 characters for a token, a whole digest for a hash.
    public static func isStrong(_ value: String) -> Bool {
        value.hasPrefix(prefix) ? configured(value) != nil : value.count >= 16
    }
}

/// Every configured token's digest and whose it is.
struct TokenTable: Sendable {
    let entries: [(digest: [UInt8], principal: Principal)]

    init(_ config: SchedulerConfig) {
        var entries: [(digest: [UInt8], principal: Principal)] = []
        for (value, principal) in config.tokens {
            if let digest = TokenDigest.configured(value) { entries.append((digest, principal)) }
        }
        self.entries = entries
    }

    /// Who holds the token with this digest. Every entry is compared, so the time taken does not depend on
    /// which entry (if any) matched (`SchedulerConfig.problems()` refuses duplicates).
    func principal(digest: [UInt8]) -> Principal? {
        var found: Principal?
        for entry in entries where Secrets.equal(digest, entry.digest) { found = found ?? entry.principal }
        return found
    }
}

/// The request context of the scheduler's routes: Hummingbird's, plus who is calling.
public struct SchedulerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` when the request carries a known bearer token or console session.
    public var principal: Principal?
    /// The console session the request came with (its cookie), when it was not a bearer token.
    public var session: String?
    /// The connection, for its TLS peer certificate.
    public let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        principal = nil
        session = nil
        channel = source.channel
    }

    /// The DNS names of the client certificate the connection presented (verified against the client
    /// CA by the TLS layer); empty without TLS or a certificate.
    public func clientCertificateNames() async -> [String] {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? certificate.toDERBytes()
        else { return [] }
        return CertificateAuthority.dnsNames(derEncoded: der)
    }

    /// The caller, or 401 when the request has no known token.
    public func caller() throws -> Principal {
        guard let principal else { throw APIError.unauthorized() }
        return principal
    }

    /// The caller, when it is one of `allowed`: 401 without a known token, 403 for anyone else.
    @discardableResult
    public func require(_ allowed: [Principal]) throws -> Principal {
        let who = try caller()
        guard allowed.contains(who) else { throw APIError.forbidden("this route is not open to \(who)") }
        return who
    }

    /// A user (admin or tenant), not an agent or the metrics token.
    @discardableResult
    public func requireUser(_ action: String) throws -> Principal {
        let who = try caller()
        guard who.isUser else { throw APIError.forbidden("\(who) cannot \(action)") }
        return who
    }

    /// The agent of `node`, by its own credential: the bootstrap token and other nodes' credentials are 403.
    public func requireNode(_ node: NodeID) throws {
        switch try caller() {
        case .node(node): return
        case .node(let other): throw APIError.forbidden("this credential is node \(other)'s, not node \(node)'s")
        case .agent:
            throw APIError.forbidden("the bootstrap token only registers nodes: use the node's credential")
        case let who: throw APIError.forbidden("this route is not open to \(who)")
        }
    }
}

/// Resolves the `Authorization: Bearer` token to a principal for the routes to check: a configured token,
/// else a node's credential; without a bearer token, the console's session cookie. A request that
/// changes something on a session must carry the session's CSRF token (403 `csrf` otherwise): the cookie
/// alone proves only that a browser sent it. A request without either goes on unauthenticated: the open
/// routes (the OpenAPI document, the console's sign-in, and `/metrics` when configured public) serve it,
/// every other route answers 401.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SchedulerRequestContext
    let tokens: TokenTable
    let scheduler: Scheduler
    let sessions: ConsoleSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            let digest = TokenDigest.of(String(header.dropFirst(7)))
            if let principal = tokens.principal(digest: digest) {
                context.principal = principal
            } else if let node = await scheduler.node(credentialDigest: Secrets.hex(digest)) {
                context.principal = .node(node)
            }
        } else if let id = ConsoleSessions.cookie(in: request.headers), let session = sessions.session(id) {
            if request.method != .get && request.method != .head {
                guard let token = request.headers[ConsoleSessions.csrfHeader], Secrets.equal(token, session.csrf)
                else {
                    throw APIError(
                        status: 403, code: "csrf",
                        message: "a console request that changes something must carry the page's X-Corral-CSRF token")
                }
            }
            context.principal = session.principal
            context.session = id
        }
        return try await next(request, context)
    }
}
