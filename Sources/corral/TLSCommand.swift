import ArgumentParser
import CorralTLS

struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls", abstract: "Make the certificates a cluster's TLS needs.",
        subcommands: [Initialize.self, Node.self])

    struct Initialize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a CA (ECDSA P-256), the scheduler's certificate and one client certificate per node.",
            discussion: """
                Writes ca.pem and ca.key, server.pem and server.key (valid for localhost, 127.0.0.1 and every \
                --host), and node-ID.pem and node-ID.key for each --node. Keys are 0600; nothing is overwritten. \
                Keep ca.key offline once the certificates are made.
                """)
        @Option(help: "Directory for the files.") var dir: String
        @Option(help: "A name or IPv4 address clients reach the scheduler by (repeatable).") var host: [String] = []
        @Option(help: "A node id to make an agent's client certificate for (repeatable).") var node: [String] = []

        func run() async throws {
            for path in try CertificateAuthority.initialize(directory: dir, hosts: host, nodes: node) { print(path) }
        }
    }

    struct Node: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make client certificates for more nodes with the CA in --dir (ca.pem and ca.key).")
        @Option(help: "Directory of the CA `corral tls init` made.") var dir: String
        @Argument(help: "Node ids.") var ids: [String]

        func run() async throws {
            for path in try CertificateAuthority.issueNodes(directory: dir, nodes: ids) { print(path) }
        }
    }
}
