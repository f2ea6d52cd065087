import ArgumentParser
import CorralClient
import CorralProtocol

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Manage the cluster's nodes (admin).", subcommands: [Forget.self])

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a node: its credential is void and its tasks are placed again elsewhere.",
            discussion: """
                Its agent, or a new machine with the same node id, then registers again with the bootstrap token \
                and gets a new credential.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node id.") var id: String

        func run() async throws {
            let forgotten = try await options.client().forget(node: id)
            if options.json { return try options.print(forgotten) }
            print("forgot \(forgotten.node): \(forgotten.requeued) task(s) placed again")
        }
    }
}
