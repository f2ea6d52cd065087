import CorralProtocol
import Foundation
import HTTPTypes
import Synchronization

/// The console's signed-in browsers. Signing in with a token makes a session: a random id the browser
/// keeps in an HttpOnly, SameSite=Strict cookie (Secure over TLS), and a CSRF token the page carries and
/// sends back in `X-Corral-CSRF` with every request that changes something. Sessions live in this
/// scheduler's memory: at most `capacity` (the oldest go first), each for `lifetime` seconds; a restart
/// or a failover signs everyone out.
public final class ConsoleSessions: Sendable {
    public struct Session: Sendable {
        public var principal: Principal
        public var csrf: String
        public var expires: Double
    }

    public static let cookieName = "corral_session"
    public static let csrfHeader = HTTPField.Name("X-Corral-CSRF")!
    public let capacity: Int
    public let lifetime: Double
    private let sessions = Mutex<[String: Session]>([:])
    let streams = Mutex<(total: Int, byViewer: [String: Int])>((0, [:]))

    public init(capacity: Int = 10_000, lifetime: Double = 12 * 3600) {
        self.capacity = max(1, capacity)
        self.lifetime = lifetime
    }

    /// A new session for an admin or a tenant: its id (for the cookie) and the session.
    public func create(for principal: Principal, now: Double = Date().timeIntervalSince1970) -> (
        id: String, session: Session
    ) {
        let id = Secrets.random()
        let session = Session(principal: principal, csrf: Secrets.random(), expires: now + lifetime)
        sessions.withLock { table in
            table = table.filter { $0.value.expires > now }
            while table.count >= capacity, let oldest = table.min(by: { $0.value.expires < $1.value.expires }) {
                table[oldest.key] = nil
            }
            table[Self.key(id)] = session
        }
        return (id, session)
    }

    /// The live session with this id, if any.
    public func session(_ id: String, now: Double = Date().timeIntervalSince1970) -> Session? {
        sessions.withLock { table in
            let key = Self.key(id)
            guard let session = table[key] else { return nil }
            guard session.expires > now else {
                table[key] = nil
                return nil
            }
            return session
        }
    }

    public func end(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: Self.key(id)) } }

    public var count: Int { sessions.withLock { $0.count } }

    /// Sessions are kept under the digest of their id, never the id itself.
    static func key(_ id: String) -> String { TokenDigest.hex(of: id) }

    /// The session id a request's `Cookie` header carries, if any.
    public static func cookie(in fields: HTTPFields) -> String? {
        for header in fields[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                guard value.count == 64, value.allSatisfy(\.isHexDigit) else { return nil }
                return value
            }
        }
        return nil
    }

    /// The `Set-Cookie` value that keeps a session (or, with nil, ends it).
    public func setCookie(_ id: String?, secure: Bool) -> String {
        let flags = "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
        guard let id else { return "\(Self.cookieName)=\(flags); Max-Age=0" }
        return "\(Self.cookieName)=\(id)\(flags); Max-Age=\(Int(lifetime))"
    }
}

extension ConsoleSessions {
    /// Counts an event stream of `viewer` in, unless `limit` are open in all or `perViewer` are the viewer's.
    public func openStream(viewer: String, limit: Int, perViewer: Int) -> Bool {
        streams.withLock { open in
            guard open.total < limit, open.byViewer[viewer, default: 0] < perViewer else { return false }
            open.total += 1
            open.byViewer[viewer, default: 0] += 1
            return true
        }
    }

    public func closeStream(viewer: String) {
        streams.withLock { open in
            open.total -= 1
            let left = open.byViewer[viewer, default: 1] - 1
            open.byViewer[viewer] = left > 0 ? left : nil
        }
    }

    public var openStreams: Int { streams.withLock { $0.total } }
}
