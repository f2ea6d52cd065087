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

    func validate() throws {
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
            logger: logger)
    }
}
