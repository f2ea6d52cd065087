import Foundation
import Hummingbird
import Logging
import Placement
import Scheduler
import Store

/// `corral scheduler`: opens the store and history in a data directory, loads the configuration (or
/// writes one with fresh tokens), and serves the API until cancelled.
public enum SchedulerServer {
    public static func run(dataDir: String, host: String, port: Int, configPath: String?, logger: Logger) async throws {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let config = try loadOrCreateConfig(dataDir: dataDir, configPath: configPath, logger: logger)
        let store = try SQLiteStore(path: dataDir + "/state.sqlite")
        let history = try UsageHistory(path: dataDir + "/history.sqlite")
        var configuration = SchedulerCore.Configuration(quotas: config.quotas)
        if let interval = config.heartbeatIntervalSeconds { configuration.heartbeatInterval = interval }
        if let b = config.connectionWeight { configuration.placement.connections = b }
        let scheduler = Scheduler(store: store, history: history, configuration: configuration, logger: logger)
        try await scheduler.start()
        let api = SchedulerAPI(scheduler: scheduler, config: config)
        let app = Application(
            router: api.router(), configuration: .init(address: .hostname(host, port: port)), logger: logger)
        let loop = Task { await scheduler.run() }
        defer { loop.cancel() }
        logger.info("scheduler listening", metadata: ["address": "http://\(host):\(port)", "data": "\(dataDir)"])
        try await app.runService()
    }

    /// The configuration file given, or `<data-dir>/config.json`, written with fresh tokens on first start.
    static func loadOrCreateConfig(dataDir: String, configPath: String?, logger: Logger) throws -> SchedulerConfig {
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
