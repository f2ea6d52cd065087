import Agent
import ArgumentParser
import CorralClient
import CorralProtocol
import CorralTLS
import Foundation
import Sandbox
import SchedulerService
import ServiceLifecycle
import SystemSupport
import UnixSignals

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a scheduler and one agent in this process on 127.0.0.1, for trying Corral out.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Directory for the scheduler's state and the agent's records and logs.") var dataDir = ".corral-dev"
    @Option(help: "Port on 127.0.0.1 for the API.") var port = 4646

    func run() async throws {
        let logger = global.bootstrap(label: "corral.dev")
        let dataDir = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        umask(0o077)
        // TLS on, as in production: a CA of its own in <data-dir>/tls (made once), the agent with its client
        // certificate (mTLS).
        let tls = dataDir + "/tls"
        if !FileManager.default.fileExists(atPath: tls + "/ca.pem") {
            _ = try CertificateAuthority.initialize(directory: tls, hosts: [], nodes: ["dev"])
        }
        let server = try await SchedulerServer(
            dataDir: dataDir + "/scheduler", host: "127.0.0.1", port: port, configPath: nil,
            tls: .init(certificate: tls + "/server.pem", key: tls + "/server.key", clientCA: tls + "/ca.pem"),
            logger: logger)
        let agent = try Agent(
            configuration: AgentConfiguration(
                schedulerURL: server.address, token: server.config.agentToken, nodeID: NodeID("dev"),
                dataDir: dataDir + "/agent", labels: ["mode": "dev"],
                sandbox: SandboxConfig(cgroupParent: "corral-dev.slice"),
                tls: ClientTLS(ca: tls + "/ca.pem", certificate: tls + "/node-dev.pem", key: tls + "/node-dev.key")),
            logger: logger)
        let tenant = server.config.tenants.sorted { $0.key < $1.key }.first
        let binary = CommandLine.arguments[0]
        let env = dataDir + "/env"
        try FileIO.writeAtomically(
            Array(
                """
                export CORRAL_ADDR=\(server.address) CORRAL_TOKEN=\(tenant?.value.token ?? server.config.adminToken) \
                CORRAL_CACERT=\(tls)/ca.pem

                """.utf8), to: env, mode: 0o600)
        FileHandle.standardOutput.write(
            Data(
                """
                Corral dev cluster: scheduler \(server.address) (TLS), one agent (node "dev"); data in \(dataDir)
                Submit a job:

                  . \(env)
                  echo '{"name": "hello", "tenant": "\(tenant?.key ?? "default")", "command": ["sh", "-c", "echo hello from $HOSTNAME"]}' | \(binary) job submit -
                  \(binary) job list

                Ctrl-C stops both (tasks still running are adopted by the next `corral dev` on this directory).

                """.utf8))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server), .init(service: AgentService(agent: agent))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
