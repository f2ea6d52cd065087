import ArgumentParser
import CorralClient
import CorralModel
import CorralProtocol
import Foundation

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Manage the cluster's nodes (admin).",
        subcommands: [Drain.self, Undrain.self, Forget.self])

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

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drain a node for maintenance: it gets no new work, and its tasks are moved at the deadline.",
            discussion: """
                At the deadline the tasks still on the node are killed and placed on other nodes at once, without \
                using up one of their attempts (a task bound to the node, of an each-node job, waits for it). \
                `--deadline 0` moves them now; `--no-deadline` waits for them to end by themselves. The drain \
                survives the agent's and the scheduler's restarts until `corral node undrain`.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node id.") var id: String
        @Option(help: "When to move the tasks still on the node: 10m, 1h, 0 (now).") var deadline = "1h"
        @Flag(help: "Never move the tasks: wait for them to end.") var noDeadline = false

        func run() async throws {
            let seconds = noDeadline ? nil : try DurationText.parse(deadline, field: "--deadline").inSeconds
            let node = try await options.client().drain(node: id, deadline: seconds)
            if options.json { return try options.print(node) }
            print("\(node.id) \(NodesCommand.drainText(node))")
        }
    }

    struct Undrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a node's drain: it takes work again.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node id.") var id: String

        func run() async throws {
            let node = try await options.client().undrain(node: id)
            if options.json { return try options.print(node) }
            print("\(node.id) takes work again")
        }
    }
}
