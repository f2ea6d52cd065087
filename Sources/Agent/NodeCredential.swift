import CorralClient
import CorralProtocol
import Logging
import SystemSupport

/// The node's credential, which the scheduler hands out once, at a registration made with the bootstrap
/// token; kept 0600 in `<data-dir>/node-credential` and carried by every later request of this node.
enum NodeCredential {
    static func path(dataDir: String) -> String { dataDir + "/node-credential" }

    static func read(dataDir: String) -> String? {
        guard let text = FileIO.readIfPresent(path(dataDir: dataDir)) else { return nil }
        let credential = String(text.filter { !$0.isWhitespace })
        return credential.isEmpty ? nil : credential
    }

    static func write(_ credential: String, dataDir: String) throws {
        try FileIO.writeAtomically(Array(credential.utf8), to: path(dataDir: dataDir), mode: 0o600)
    }
}

extension Agent {
    /// Registers the node: with its credential if it has one, else with the bootstrap token, keeping the
    /// credential the answer brings before anything else. A credential the scheduler no longer knows (the
    /// node was forgotten) is dropped and the bootstrap token tried once.
    func register() async throws {
        let orders: AgentOrders
        do {
            orders = try await client.register(registration())
        } catch let error as APIError where error.status == 401 && client.token != configuration.token {
            logger.warning(
                "the scheduler does not know this node's credential: registering with the bootstrap token",
                metadata: ["node": "\(configuration.nodeID)"])
            client = try SchedulerClient(
                baseURL: configuration.schedulerURL, token: configuration.token, tls: configuration.tls)
            orders = try await client.register(registration())
        }
        if let credential = orders.credential {
            try NodeCredential.write(credential, dataDir: configuration.dataDir)
            client = try SchedulerClient(
                baseURL: configuration.schedulerURL, token: credential, tls: configuration.tls)
        }
        relayToken = orders.relayToken
        apply(orders)
    }
}
