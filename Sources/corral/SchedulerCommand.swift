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

    func validate() throws {
        guard let colon = listen.lastIndex(of: ":"), Int(listen[listen.index(after: colon)...]) != nil else {
            throw ValidationError("--listen must be host:port, like 127.0.0.1:4646")
        }
    }

    func run() async throws {
        // Files this process creates (state, config, logs, records) are its own unless made otherwise.
        umask(0o077)
        let logger = global.bootstrap(label: "corral.scheduler")
        let colon = listen.lastIndex(of: ":")!
        try await SchedulerServer.run(
            dataDir: dataDir, host: String(listen[..<colon]), port: Int(listen[listen.index(after: colon)...])!,
            configPath: config, logger: logger)
    }
}
