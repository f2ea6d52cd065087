import ArgumentParser
import CorralClient
import CorralProtocol
import Foundation

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a task's output (relayed by the scheduler from the agent that runs it).",
        discussion: """
            ALLOCATION is <job>.<index>.<attempt>, as `corral job status` shows it. The scheduler knows the \
            node of each task's latest attempt; that node's agent must run with --listen.
            """)

    @OptionGroup var options: ClientOptions
    @Argument(help: "The allocation: <job>.<index>.<attempt>.") var allocation: String
    @Flag(help: "Print standard error instead of standard output.") var stderr = false
    @Flag(name: .shortAndLong, help: "Keep printing new output until the task ends.") var follow = false
    @Option(help: "Seconds between reads while following.") var interval = 0.5

    func run() async throws {
        guard let allocation = AllocationID(allocation) else {
            throw ValidationError("\"\(allocation)\" \(AllocationID.rule)")
        }
        let client = try options.client()
        let stream = stderr ? "stderr" : "stdout"
        var offset: UInt64 = 0
        while true {
            let chunk = try await client.logs(allocation: allocation, stream: stream, offset: offset)
            if chunk.bytes.count > 0 {
                FileHandle.standardOutput.write(chunk.bytes)
            }
            offset = chunk.next
            guard follow, chunk.running || chunk.bytes.count > 0 else { return }
            if chunk.bytes.count == 0 { try await Task.sleep(for: .milliseconds(Int64(interval * 1000))) }
        }
    }
}
