import ArgumentParser
import CorralClient
import CorralProtocol
import Foundation
import SchedulerService

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Run the scheduler: job API, durable state, placement.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Directory for state.sqlite, history.sqlite and, without --config, config.json.")
    var dataDir: String
    @Option(help: "Address to listen on, host:port.") var listen = "127.0.0.1:4646"
    @Option(help: "Configuration file (tokens, tenants and quotas); default <data-dir>/config.json, created if absent.")
    var config: String?
    @Option(help: "Serve HTTPS with this certificate (PEM; `corral tls init` makes one).") var tlsCert: String?
    @Option(help: "The certificate's private key (PEM).") var tlsKey: String?
    @Option(help: "Require agents to present a client certificate named by their node id, signed by this CA (mTLS).")
    var tlsClientCa: String?
    @Option(
        help:
            "Where the cluster's state lives: sqlite (in --data-dir, one scheduler) or etcd (several schedulers, one leads)."
    )
    var store = "sqlite"
    @Option(help: "etcd members, URL[,URL...] (with --store etcd).") var etcdEndpoints: String?
    @Option(help: "Prefix of every key this cluster keeps in etcd.") var etcdPrefix = "/corral/"
    @Option(help: "The etcd CA (PEM), for https:// endpoints.") var etcdCa: String?
    @Option(help: "A client certificate (PEM) for etcd, with --etcd-key.") var etcdCert: String?
    @Option(help: "The client certificate's key (PEM).") var etcdKey: String?
    @Option(
        help: "Seconds the leader's lease lasts unrenewed (renewed every third of it); failover takes about this long.")
    var leaseTtl = 5
    @Option(
        help:
            "This scheduler's URL as agents and clients reach it; followers redirect there. Default: the listen address."
    )
    var advertise: String?

    func validate() throws {
        guard ["sqlite", "etcd"].contains(store) else { throw ValidationError("--store must be sqlite or etcd") }
        if store == "etcd" {
            guard let etcdEndpoints, !etcdEndpoints.isEmpty else {
                throw ValidationError("--store etcd needs --etcd-endpoints http://HOST:2379[,...]")
            }
            for endpoint in etcdEndpoints.split(separator: ",")
            where !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
                throw ValidationError("--etcd-endpoints: \(endpoint) is not an http:// or https:// URL")
            }
            guard config != nil else {
                throw ValidationError("--store etcd needs --config: every scheduler of the cluster reads the same file")
            }
            guard (2...60).contains(leaseTtl) else { throw ValidationError("--lease-ttl must be 2 to 60 seconds") }
            if (etcdCert == nil) != (etcdKey == nil) { throw ValidationError("--etcd-cert and --etcd-key go together") }
            let host = listen[..<(listen.lastIndex(of: ":") ?? listen.endIndex)]
            if advertise == nil, ["0.0.0.0", "::", "[::]", ""].contains(host) {
                throw ValidationError(
                    "--listen \(listen) is no address to redirect to: give --advertise http://HOST:PORT")
            }
        } else if etcdEndpoints != nil {
            throw ValidationError("--etcd-endpoints goes with --store etcd")
        }
        guard let colon = listen.lastIndex(of: ":"), Int(listen[listen.index(after: colon)...]) != nil else {
            throw ValidationError("--listen must be host:port, like 127.0.0.1:4646")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsClientCa != nil, tlsCert == nil {
            throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key")
        }
    }

    func run() async throws {
        // Files this process creates (state, config, logs, records) are its own unless made otherwise.
        umask(0o077)
        let logger = global.bootstrap(label: "corral.scheduler")
        let colon = listen.lastIndex(of: ":")!
        try await SchedulerServer.run(
            dataDir: dataDir, host: String(listen[..<colon]), port: Int(listen[listen.index(after: colon)...])!,
            configPath: config,
            tls: tlsCert.map { SchedulerServer.TLSFiles(certificate: $0, key: tlsKey!, clientCA: tlsClientCa) },
            store: storeChoice, logger: logger)
    }

    var storeChoice: StoreChoice {
        guard store == "etcd", let etcdEndpoints else { return .sqlite }
        return .etcd(
            EtcdOptions(
                endpoints: etcdEndpoints.split(separator: ",").map(String.init), prefix: etcdPrefix, leaseTTL: leaseTtl,
                advertise: advertise, ca: etcdCa, certificate: etcdCert, key: etcdKey))
    }
}
