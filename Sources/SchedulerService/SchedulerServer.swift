import AsyncHTTPClient
import CorralModel
import CorralProtocol
import CorralTLS
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import Placement
import Scheduler
import ServiceLifecycle
import Store
import SystemSupport
import UnixSignals

/// `corral scheduler`: opens the store and history in a data directory, loads the configuration (or
/// writes one with fresh tokens), and serves the API. A ServiceLifecycle service: it runs until
/// cancelled or shut down gracefully.
public struct SchedulerServer: Service {
    public let scheduler: Scheduler
    public let config: SchedulerConfig
    public let address: String
    let app: Application<RouterResponder<SchedulerRequestContext>>
    let logger: Logger
    /// With etcd: the election this scheduler runs in; it leads or follows by it.
    let leadership: LeadershipLoop?
    /// With etcd: a follower's copy of the leader's usage history.
    let historyCopy: HistoryCopy?
    /// Sends the alert rules' notifications to their webhooks.
    public let alerts: AlertSender
    public let role: RoleState

    /// The scheduler's certificate and key (PEM files), and the CA agents' client certificates must be
    /// signed by for mTLS, if any.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public var clientCA: String?

        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    public init(
        dataDir: String, host: String, port: Int, configPath: String?, tls: TLSFiles? = nil,
        store choice: StoreChoice = .sqlite, logger: Logger
    ) async throws {
        // Every job's environment and the tokens live here: the directory is root's alone, even one that
        // existed before with looser bits.
        if try FileIO.makePrivateDirectory(dataDir) {
            logger.notice("the data directory was open to others: now 0700", metadata: ["dir": "\(dataDir)"])
        }
        let history = try UsageHistory(path: dataDir + "/history.sqlite")
        address = "\(tls == nil ? "http" : "https")://\(host):\(port)"
        let relayKey: SymmetricKey
        switch choice {
        case .sqlite:
            config = try Self.loadOrCreateConfig(dataDir: dataDir, configPath: configPath, logger: logger)
            scheduler = Scheduler(
                store: try SQLiteStore(path: dataDir + "/state.sqlite"), history: history,
                configuration: config.core, logger: logger,
                checkpoints: try CheckpointStore(
                    directory: dataDir + "/checkpoints", maxBytes: config.checkpointBytesMax ?? 4 << 30))
            try await scheduler.start()
            relayKey = try Self.relayKey(dataDir: dataDir, logger: logger)
            role = RoleState(.standalone)
            leadership = nil
            historyCopy = nil
        case .etcd(let options):
            // Every scheduler of the cluster must know the same tokens: one file, given to each.
            guard let configPath else {
                throw ValueError(
                    field: "--config", message: "is required with --store etcd: every scheduler needs the same file")
            }
            config = try SchedulerConfig.load(path: configPath)
            let store = try options.store()
            scheduler = Scheduler(
                store: store, history: history, configuration: config.core, logger: logger,
                checkpoints: try CheckpointStore(
                    directory: dataDir + "/checkpoints", maxBytes: config.checkpointBytesMax ?? 4 << 30))
            relayKey = try await Self.relayKey(store: store, logger: logger)
            role = RoleState(.noLeader)
            leadership = LeadershipLoop(
                election: EtcdElection(store: store), store: store, scheduler: scheduler, role: role,
                ttl: options.leaseTTL, advertise: options.advertise ?? address, logger: logger)
            // The leader's certificate is checked against the CA of agents' certificates (one CA, from
            // `corral tls init`), else the system's roots.
            historyCopy = HistoryCopy(
                history: history, checkpoints: scheduler.checkpoints, role: role, relayKey: relayKey,
                http: try ProcessClients.client(ca: tls?.clientCA),
                interval: .milliseconds(Int64((config.historyCopySeconds ?? 60) * 1000)), logger: logger)
        }
        alerts = AlertSender(http: try ProcessClients.client(ca: nil), logger: logger)
        let api = SchedulerAPI(
            scheduler: scheduler, config: config, relayKey: relayKey, agentCA: tls?.clientCA, role: role,
            advertise: leadership?.advertise ?? address, alerts: alerts, secureCookies: tls != nil)
        let tlsConfiguration = try tls.map {
            try TLSSettings.server(certificate: $0.certificate, key: $0.key, clientCA: $0.clientCA)
        }
        app = try Self.application(
            router: api.router(), host: host, port: port, config: config, tls: tlsConfiguration, logger: logger)
        self.logger = logger
        logger.info(
            "scheduler ready", metadata: ["address": "\(address)", "data": "\(dataDir)", "role": "\(role.current)"])
    }

    /// Once a second: the leader evaluates the alert rules, and whatever is due goes to its webhook.
    static func alertLoop(_ alerts: AlertSender, scheduler: Scheduler, role: RoleState) async {
        while !Task.isCancelled {
            if role.current.serves { await alerts.enqueue(await scheduler.evaluateAlerts()) }
            await alerts.sendDue()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func run() async throws {
        let loop = Task { [leadership, scheduler, historyCopy, alerts, role] in
            await withDiscardingTaskGroup { group in
                group.addTask { await Self.alertLoop(alerts, scheduler: scheduler, role: role) }
                if let historyCopy { group.addTask { await historyCopy.run() } }
                if let leadership { await leadership.run() } else { await scheduler.run() }
                group.cancelAll()
            }
        }
        defer { loop.cancel() }
        try await withGracefulShutdownHandler {
            try await app.run()
            // A leader's lease is revoked before the process ends (see onGracefulShutdown).
            loop.cancel()
            await loop.value
        } onGracefulShutdown: { [scheduler, logger] in
            // A leader steps down at once (its lease revoked), so that another leads without waiting it out.
            loop.cancel()
            Task {
                let answered = await scheduler.shutdown()
                logger.info(
                    "shutting down: open long-polls answered, new ones refused", metadata: ["answered": "\(answered)"])
            }
        }
    }

    /// Serves until SIGTERM or SIGINT.
    public static func run(
        dataDir: String, host: String, port: Int, configPath: String?, tls: TLSFiles? = nil,
        store: StoreChoice = .sqlite, logger: Logger
    ) async throws {
        let server = try await SchedulerServer(
            dataDir: dataDir, host: host, port: port, configPath: configPath, tls: tls, store: store, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The cluster and its usage history as a stopped (or running) scheduler's data directory holds them,
    /// without starting a scheduler: what `corral report capacity --data-dir` reads.
    public static func snapshot(dataDir: String, configPath: String?) async throws -> (ClusterSnapshot, UsageHistory) {
        for file in ["state.sqlite", "history.sqlite"]
        where !FileManager.default.fileExists(atPath: dataDir + "/" + file) {
            throw APIError.notFound("\(dataDir)/\(file) (is this a scheduler's --data-dir?)")
        }
        let configFile = configPath ?? dataDir + "/config.json"
        let config =
            FileManager.default.fileExists(atPath: configFile) ? try SchedulerConfig.load(path: configFile) : nil
        let store = try SQLiteStore(path: dataDir + "/state.sqlite")
        let history = try UsageHistory(path: dataDir + "/history.sqlite")
        let now = Date().timeIntervalSince1970
        let core = try await SchedulerCore.loaded(
            from: store, configuration: config?.core ?? SchedulerCore.Configuration(), now: now)
        return (core.snapshot(now: now), history)
    }

    /// The HTTP server with the configuration's bounds: a connection cap below the open-file limit (raised
    /// to its hard limit first) and the idle timeout, which also bounds how long a request header may take.
    static func application(
        router: Router<SchedulerRequestContext>, host: String, port: Int, config: SchedulerConfig,
        tls: TLSConfiguration?, logger: Logger
    ) throws -> Application<RouterResponder<SchedulerRequestContext>> {
        DescriptorLimit.raise()
        // Room for the stores, the log relay and the agents' long-polls' own descriptors.
        let cap = max(16, min(config.maxConnections ?? 4096, Int(clamping: DescriptorLimit.current) - 256))
        let idle = config.idleTimeoutSeconds ?? 10
        let http: HTTPServerBuilder = .http1(configuration: .init(idleTimeout: .milliseconds(Int64(idle * 1000))))
        return Application(
            router: router,
            server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
            configuration: .init(
                address: .hostname(host, port: port), availableConnectionsDelegate: MaximumAvailableConnections(cap)),
            logger: logger)
    }

    /// `<data-dir>/relay.key`: 32 random bytes, made 0600 on first start, that key the nodes' relay tokens
    /// (so that they stay valid across restarts). Removing it makes every node's relay token void until its
    /// agent registers again.
    static func relayKey(dataDir: String, logger: Logger) throws -> SymmetricKey {
        let path = dataDir + "/relay.key"
        if let hex = FileIO.readIfPresent(path) {
            guard
                let bytes = TokenDigest.configured(
                    TokenDigest.prefix + hex.trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw ValueError(field: path, message: "is not 64 hex digits: remove it to make a new key") }
            return SymmetricKey(data: bytes)
        }
        try FileIO.writeAtomically(Array(Secrets.random().utf8), to: path, mode: 0o600)
        logger.notice("made the key of the nodes' relay tokens", metadata: ["path": "\(path)"])
        return try relayKey(dataDir: dataDir, logger: logger)
    }

    /// The relay key of a cluster on etcd (`relay.key`): made by the first scheduler that starts, shared by
    /// all, so that a node's relay token stays valid across a failover.
    static func relayKey(store: any StateStore, logger: Logger) async throws -> SymmetricKey {
        let key = "relay.key"
        if let stored = try await store.get(key) {
            guard stored.value.count == 32 else {
                throw ValueError(field: key, message: "in etcd is not 32 bytes: delete it to make a new key")
            }
            return SymmetricKey(data: stored.value)
        }
        let made = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        if try await store.txn(if: [.absent(key)], then: [.put(key, made)]).succeeded {
            logger.notice("made the key of the nodes' relay tokens in etcd")
        }
        return try await relayKey(store: store, logger: logger)
    }

    /// The configuration file given, or `<data-dir>/config.json`, written with fresh tokens on first start.
    public static func loadOrCreateConfig(dataDir: String, configPath: String?, logger: Logger) throws
        -> SchedulerConfig
    {
        if let configPath { return try SchedulerConfig.load(path: configPath) }
        let path = dataDir + "/config.json"
        if FileManager.default.fileExists(atPath: path) { return try SchedulerConfig.load(path: path) }
        let config = SchedulerConfig.generated()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeAtomically(Array(try encoder.encode(config)), to: path, mode: 0o600)
        logger.notice("wrote a configuration with new tokens", metadata: ["path": "\(path)"])
        return config
    }
}
