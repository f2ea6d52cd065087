import AsyncHTTPClient
import CorralTLS
import Foundation
import NIOCore
import NIOPosix
import Store

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

    /// The store, with a client of its own when TLS is asked for (it lives as long as the process).
    func store() throws -> EtcdStore {
        guard ca != nil || certificate != nil else { return EtcdStore(endpoints: endpoints, prefix: prefix) }
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: try TLSSettings.client(ca: ca, certificate: certificate, key: key),
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(1))))
        return EtcdStore(endpoints: endpoints, prefix: prefix, client: client)
    }
}
