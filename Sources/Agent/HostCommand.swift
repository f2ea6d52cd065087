import Foundation

/// Runs one of the host's network tools (`ip`, `nft`, `nsenter`) and waits for it without blocking a thread.
/// A non-zero exit is an error carrying the tool's own words.
enum HostCommand {
    static let directories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The tool's absolute path, or nil when none of the system directories has it.
    static func find(_ name: String) -> String? {
        directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `tool` with `arguments`, `input` on its stdin. Returns its stdout; throws with its stderr.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], input: String? = nil) async throws(AgentError) -> String {
        guard let path = find(tool) else {
            throw AgentError.network("\(tool) is not installed (apt-get install \(package(of: tool)))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let ended = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { ended.continuation.yield($0.terminationStatus) }
        do { try process.run() } catch { throw AgentError.network("cannot run \(path): \(error)") }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        // Read both to the end before waiting, so that a chatty tool cannot fill a pipe and stall.
        async let out = Task.detached { stdout.fileHandleForReading.readDataToEndOfFile() }.value
        async let err = Task.detached { stderr.fileHandleForReading.readDataToEndOfFile() }.value
        let (output, errors) = await (out, err)
        var status: Int32 = -1
        for await code in ended.stream {
            status = code
            break
        }
        guard status == 0 else {
            let message = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw AgentError.network("\(tool) \(arguments.joined(separator: " ")) failed (exit \(status)): \(message)")
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func package(of tool: String) -> String {
        switch tool {
        case "nft": "nftables"
        case "ip": "iproute2"
        default: "util-linux"
        }
    }
}
