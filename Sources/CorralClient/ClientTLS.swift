import AsyncHTTPClient
import CorralTLS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

extension SchedulerClient {
    /// The client for http:// (and https:// against the system's roots). Redirects are the scheduler
    /// client's to follow (a follower's, to an address it was given), never the HTTP layer's, which would
    /// send the token wherever one points.
    public static let plainHTTP = HTTPClient(
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration(tls: nil))

    /// No redirects followed by the HTTP layer; a connection that is refused fails its request at once and
    /// one that hangs after 2 s. (AsyncHTTPClient would retry a refused connection until its connect timeout,
    /// 10 s by default: a client of several schedulers moves on from a dead one itself, and the agent's
    /// loops retry.)
    static func configuration(tls: TLSConfiguration?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }
}

/// How a client reaches a scheduler over TLS: the CA to verify it against (`--ca`, `$CORRAL_CACERT`),
/// and a client certificate and key (an agent's, for mTLS).
public struct ClientTLS: Sendable, Hashable {
    public var ca: String?
    public var certificate: String?
    public var key: String?

    public init(ca: String?, certificate: String? = nil, key: String? = nil) {
        self.ca = ca
        self.certificate = certificate
        self.key = key
    }

    private static let clients = Mutex<[ClientTLS: HTTPClient]>([:])

    /// One HTTP client per setting, for the life of the process (an HTTPClient must be shut down before it
    /// goes away; these never go away).
    public func httpClient() throws -> HTTPClient {
        if let client = Self.clients.withLock({ $0[self] }) { return client }
        let configuration = try TLSSettings.client(ca: ca, certificate: certificate, key: key)
        return Self.clients.withLock { clients in
            if let client = clients[self] { return client }
            let client = HTTPClient(
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                configuration: SchedulerClient.configuration(tls: configuration))
            clients[self] = client
            return client
        }
    }
}
