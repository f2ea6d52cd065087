import ArgumentParser

/// The `corral` command tree. Parsing only: every subcommand calls into the libraries.
@main
struct Corral: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corral",
        abstract: "A cluster scheduler and per-node execution agent for Linux.",
        subcommands: [
            ExecCommand.self, HostCommand.self, ImageCommand.self, SchedulerCommand.self, JobCommand.self,
            NodesCommand.self, NodeCommand.self, AlertsCommand.self, LogsCommand.self, AllocCommand.self,
            AgentCommand.self,
            DevCommand.self, DemoCommand.self,
            ForecastCommand.self, ReportCommand.self, TokenCommand.self, TLSCommand.self,
            BenchCommand.self,
        ]
    )
}
