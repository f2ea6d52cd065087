import CorralProtocol
import Hummingbird

/// Who a bearer token belongs to.
public enum Principal: Sendable, Equatable, CustomStringConvertible {
    case admin
    case agent
    case tenant(String)

    public var description: String {
        switch self {
        case .admin: "admin"
        case .agent: "agent"
        case .tenant(let name): "tenant(\(name))"
        }
    }
}

/// The request context of the scheduler's routes: Hummingbird's, plus who is calling.
public struct SchedulerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` when the request carries a known bearer token.
    public var principal: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
        principal = nil
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
}

/// Resolves the `Authorization: Bearer` token to a principal for the routes to check. A request
/// without one goes on unauthenticated: the open routes (`/metrics`, the OpenAPI document) serve it,
/// every other route answers 401.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SchedulerRequestContext
    let config: SchedulerConfig

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            context.principal = config.principal(token: String(header.dropFirst(7)))
        }
        return try await next(request, context)
    }
}
