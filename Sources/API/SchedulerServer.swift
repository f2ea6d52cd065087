import Foundation
import Hummingbird
import Logging
import Placement
import Scheduler
import ServiceLifecycle
import Store
import UnixSignals

/// `corral scheduler`: opens the store and history in a data directory, loads the configuration (or
/// writes one with fresh tokens), and serves the API. A ServiceLifecycle service: it runs until
/// cancelled or shut down gracefully.
public struct SchedulerServer: Service {
    public let scheduler: Scheduler
    public let config: SchedulerConfig
    public let address: String
    let app: Application<RouterResponder<BasicRequestContext>>
    let logger: Logger

    public init(dataDir: String, host: String, port: Int, configPath: String?, logger: Logger) async throws {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        config = try Self.loadOrCreateConfig(dataDir: dataDir, configPath: configPath, logger: logger)
        let store = try SQLiteStore(path: dataDir + "/state.sqlite")
        let history = try UsageHistory(path: dataDir + "/history.sqlite")
        var configuration = SchedulerCore.Configuration(quotas: config.quotas)
        if let interval = config.heartbeatIntervalSeconds { configuration.heartbeatInterval = interval }
        if let ttl = config.minimumNodeTTLSeconds { configuration.minimumTTL = ttl }
        if let b = config.connectionWeight { configuration.placement.connections = b }
        if let conservative = config.conservativeForecasts { configuration.conservativeForecasts = conservative }
        scheduler = Scheduler(store: store, history: history, configuration: configuration, logger: logger)
        try await scheduler.start()
        let api = SchedulerAPI(scheduler: scheduler, config: config)
        app = Application(
            router: api.router(), configuration: .init(address: .hostname(host, port: port)), logger: logger)
        address = "http://\(host):\(port)"
        self.logger = logger
        logger.info("scheduler ready", metadata: ["address": "\(address)", "data": "\(dataDir)"])
    }

    public func run() async throws {
        let loop = Task { await scheduler.run() }
        defer { loop.cancel() }
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            Task { await scheduler.shutdown() }
        }
    }

    /// Serves until SIGTERM or SIGINT.
    public static func run(dataDir: String, host: String, port: Int, configPath: String?, logger: Logger) async throws {
        let server = try await SchedulerServer(
            dataDir: dataDir, host: host, port: port, configPath: configPath, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
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
        try encoder.encode(config).write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o600)
        logger.notice("wrote a configuration with new tokens", metadata: ["path": "\(path)"])
        return config
    }
}
