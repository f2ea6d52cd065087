import ArgumentParser
import CorralModel
import Sandbox

/// What every task launched on this host may see and be: shared by `corral exec` and `corral agent`.
struct SandboxOptions: ParsableArguments {
    @Option(
        name: .customLong("root-path"),
        help: """
            Host directory a task without an image sees read-only in its own root. Repeatable; replaces the \
            default list (\(SandboxConfig.defaultRootPaths.joined(separator: " "))).
            """)
    var rootPaths: [String] = []
    @Option(help: "uids handed to tasks, one per running task (FIRST-LAST; default \(IdentityRange.default)).")
    var taskUids: String?

    func apply(to config: inout SandboxConfig) throws {
        if !rootPaths.isEmpty { config.rootPaths = rootPaths }
        if let taskUids {
            do throws(ValueError) { config.identities = try IdentityRange.parse(taskUids, field: "--task-uids") } catch
            {
                throw ValidationError(error.description)
            }
        }
    }
}
