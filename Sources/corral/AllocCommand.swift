import ArgumentParser
import CorralClient
import CorralProtocol
import Foundation

struct AllocCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alloc", abstract: "Look into one allocation (one attempt of one task).",
        subcommands: [Files.self])

    struct Files: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fs",
            abstract: "List a task's work directory, or print a file from it.",
            discussion: """
                PATH is relative to the task's work directory (/work inside the task); no path leaves it, and \
                symbolic links are not followed. Readable while the task runs and for the agent's \
                --work-retention after it ended (default 1 hour). The node's agent must run with --listen.
                """)

        @OptionGroup var options: ClientOptions
        @Argument(help: "The allocation: <job>.<index>.<attempt>.") var allocation: String
        @Argument(help: "A path in the work directory (default: the directory itself).") var path = ""

        func run() async throws {
            guard let allocation = AllocationID(allocation) else {
                throw ValidationError("\"\(allocation)\" \(AllocationID.rule)")
            }
            let client = try options.client()
            var offset: UInt64 = 0
            while true {
                switch try await client.files(allocation: allocation, path: path, offset: offset) {
                case .directory(let listing):
                    if options.json { return try options.print(listing) }
                    Table.print(
                        ["TYPE", "MODE", "SIZE", "NAME"],
                        listing.entries.map {
                            [$0.kind.rawValue, String($0.mode, radix: 8), "\($0.size)", $0.name]
                        })
                    return
                case .file(let bytes, let size, let next):
                    FileHandle.standardOutput.write(bytes)
                    // A file that shrank or stopped growing under us ends the read.
                    guard next < size, next > offset else { return }
                    offset = next
                }
            }
        }
    }
}
