import Logging
import ServiceLifecycle
import UnixSignals

/// The agent as a ServiceLifecycle service: a graceful shutdown (SIGTERM) stops the agent and leaves
/// its tasks running; the next agent started on this data directory adopts them.
public struct AgentService: Service {
    public let agent: Agent

    public init(agent: Agent) { self.agent = agent }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await agent.run() }
    }

    /// Runs the agent until SIGTERM or SIGINT.
    public static func run(_ agent: Agent, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: AgentService(agent: agent))], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
