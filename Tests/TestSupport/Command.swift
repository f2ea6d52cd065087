import Foundation

/// What a command printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments` (and `environment` added to this process's) from the repository's
/// root and collects its output (stderr is read on its own thread, so a chatty command cannot block on a
/// full pipe).
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
    -> CommandResult
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot())
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    final class Collected: @unchecked Sendable { var data = Data() }
    let stderr = Collected()
    let reading = DispatchGroup()
    DispatchQueue.global().async(group: reading) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    reading.wait()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr.data, as: UTF8.self))
}

/// The debug build of `corral` that `Tests/run-all` builds before the tests.
public let corralBinary = repositoryRoot() + "/.build/debug/corral"

/// A missing `corral` binary, said as what to run.
public struct MissingBinary: Error, CustomStringConvertible {
    public var description: String { "\(corralBinary) missing: run `swift build` before the tests" }
}

/// Runs the built `corral` with `arguments` from the repository's root.
public func runCorral(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    guard FileManager.default.isExecutableFile(atPath: corralBinary) else { throw MissingBinary() }
    return try runCommand(corralBinary, arguments, environment: environment)
}
