import Foundation

/// What a command printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// The command ran past its timeout and was ended.
    public var timedOut = false
}

/// Runs `executable` with `arguments` (and `environment` added to this process's) from the repository's
/// root and collects its output (stderr is read on its own thread, so a chatty command cannot block on a
/// full pipe).
/// With `timeout`, a command still running after that many seconds gets SIGTERM (SIGKILL 10 s later) and
/// the result says so: a hung command fails its test instead of hanging the run.
public func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double? = nil
) throws -> CommandResult {
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
    let timedOut = Timer(process: process, after: timeout)
    final class Collected: @unchecked Sendable { var data = Data() }
    let stderr = Collected()
    let reading = DispatchGroup()
    DispatchQueue.global().async(group: reading) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    reading.wait()
    process.waitUntilExit()
    timedOut.cancel()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr.data, as: UTF8.self), timedOut: timedOut.fired)
}

/// Ends a process (by its pid) that outlives its time.
private final class Timer: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private(set) var fired = false

    init(process: Process, after seconds: Double?) {
        guard let seconds else { return }
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            guard lock.withLock({ !done && process.isRunning }) else { return }
            lock.withLock { fired = true }
            kill(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
    }

    func cancel() { lock.withLock { done = true } }
}

/// The debug build of `corral` that `Tests/run-all` builds before the tests.
public let corralBinary = repositoryRoot() + "/.build/debug/corral"

/// A missing `corral` binary, said as what to run.
public struct MissingBinary: Error, CustomStringConvertible {
    public var description: String { "\(corralBinary) missing: run `swift build` before the tests" }
}

/// Runs the built `corral` with `arguments` from the repository's root.
public func runCorral(_ arguments: [String], environment: [String: String] = [:], timeout: Double? = nil) throws
    -> CommandResult
{
    guard FileManager.default.isExecutableFile(atPath: corralBinary) else { throw MissingBinary() }
    return try runCommand(corralBinary, arguments, environment: environment, timeout: timeout)
}
