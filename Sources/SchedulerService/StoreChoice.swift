import AsyncHTTPClient
import CorralTLS
import Foundation
import NIOCore
import NIOPosix
import Store
import Synchronization

/// Where a scheduler keeps the cluster's state: SQLite in its data directory (one scheduler, the
/// default), or etcd (several schedulers, one elected leader).
public enum StoreChoice: Sendable {
    case sqlite
    case etcd(EtcdOptions)
}

/// `--store etcd` and what goes with it.
public struct EtcdOptions: Sendable {
    /// `http(s)://HOST:PORT` of the etcd members.
    public var endpoints: [String]
    /// Every key of this cluster starts with it: several clusters can share one etcd.
    public var prefix: String
    /// Seconds a leader's lease lasts without renewal; renewed every third of it.
    public var leaseTTL: Int
    /// This scheduler's address as clients and agents reach it (followers redirect there); default the
    /// listen address.
    public var advertise: String?
    /// TLS to etcd: its CA, and a client certificate and key when etcd asks for one.
    public var ca: String?
    public var certificate: String?
    public var key: String?

    public init(
        endpoints: [String], prefix: String = "/corral/", leaseTTL: Int = 5, advertise: String? = nil,
        ca: String? = nil, certificate: String? = nil, key: String? = nil
    ) {
        self.endpoints = endpoints
        self.prefix = prefix
        self.leaseTTL = leaseTTL
        self.advertise = advertise
        self.ca = ca
        self.certificate = certificate
        self.key = key
    }

    /// The store, with a client of its own when TLS is asked for.
    func store() throws -> EtcdStore {
        guard ca != nil || certificate != nil else { return EtcdStore(endpoints: endpoints, prefix: prefix) }
        return EtcdStore(
            endpoints: endpoints, prefix: prefix,
            client: try ProcessClients.client(ca: ca, certificate: certificate, key: key))
    }
}

/// HTTP clients that live as long as the process (an AsyncHTTPClient must be shut down before it goes
/// away; these never go away): one per TLS setting, with a short connect timeout and no redirects.
enum ProcessClients {
    private static let clients = Mutex<[[String?]: HTTPClient]>([:])

    static func client(ca: String?, certificate: String? = nil, key: String? = nil) throws -> HTTPClient {
        let id = [ca, certificate, key]
        if let client = clients.withLock({ $0[id] }) { return client }
        let tls = try TLSSettings.client(ca: ca, certificate: certificate, key: key)
        return clients.withLock { clients in
            if let client = clients[id] { return client }
            let client = HTTPClient(
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                configuration: HTTPClient.Configuration(
                    tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2))))
            clients[id] = client
            return client
        }
    }
}
