import Cgroups
import CorralModel
import Foundation
import Sandbox
import SystemSupport
import TestSupport
import Testing

/// Runs real tasks for the integration suites and captures their output.
struct Harness {
    let sandbox: Sandbox

    init() throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        sandbox = try Sandbox(config: SandboxConfig(killGrace: .milliseconds(300)))
    }

    /// A spec with a unique id and the task's stdout+stderr going to a pipe.
    func spec(_ script: String, _ configure: (inout TaskSpec) -> Void = { _ in }) -> TaskSpec {
        var spec = TaskSpec(id: "test-\(UInt32.random(in: 0 ... .max))", argv: ["/bin/sh", "-c", script])
        configure(&spec)
        return spec
    }

    /// Launches, lets `during` look at the running task, waits, and returns the outcome and output. With
    /// `ready`, `during` runs only once the task has printed that text (a handshake: the task says when its
    /// traps are set or its children forked, instead of the test guessing with a sleep).
    func run(
        _ spec: TaskSpec, ready: String? = nil, during: (SandboxedTask) async throws -> Void = { _ in }
    ) async throws -> (TaskOutcome, String) {
        var spec = spec
        let output = Pipe()
        spec.stdout = output.fileHandleForWriting.fileDescriptor
        spec.stderr = output.fileHandleForWriting.fileDescriptor
        let reader = OutputReader(output.fileHandleForReading)
        let task: SandboxedTask
        do { task = try await sandbox.launch(spec) } catch {
            try? output.fileHandleForWriting.close()
            _ = await reader.text()
            throw error
        }
        try? output.fileHandleForWriting.close()
        if let ready {
            guard await reader.wait(for: ready, timeout: .seconds(20)) else {
                await task.kill()
                _ = await task.wait()
                Issue.record("the task never printed \(ready): \(await reader.text())")
                return (await task.wait(), await reader.text())
            }
        }
        try await during(task)
        let outcome = await task.wait()
        return (outcome, await reader.text())
    }

    /// Processes whose command line contains `marker`, read from /proc.
    static func processes(containing marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let cmdline = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return cmdline.contains(marker) && !cmdline.contains("swift-testing") ? "\(pid): \(cmdline)" : nil
        }
    }

    /// Reads a file of the task's cgroup on the host: the v2 directory on pure v2, else the v1 controller's.
    static func hostFile(_ cgroup: Cgroup, controller: String, v1 v1File: String, v2 v2File: String) -> String? {
        if cgroup.host.mode == .unified, let dir = cgroup.unifiedPath { return try? FileIO.read(dir + "/" + v2File) }
        guard let dir = cgroup.legacyPaths[controller] else { return nil }
        return try? FileIO.read(dir + "/" + v1File)
    }
}

/// Reads a pipe to EOF on a thread of its own: a blocking read must not occupy one of the few threads of
/// Swift's cooperative pool, or the timers that end the task (and so close the pipe) could never run.
final class OutputReader: Sendable {
    private final class Buffer: @unchecked Sendable {
        let lock = NSLock()
        var data = Data()
    }
    private let buffer = Buffer()
    private let done: Task<String, Never>

    init(_ handle: FileHandle) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let buffer = self.buffer
        Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.lock.withLock { buffer.data.append(chunk) }
            }
            continuation.yield(buffer.lock.withLock { String(decoding: buffer.data, as: UTF8.self) })
            continuation.finish()
        }.start()
        done = Task { await stream.first { _ in true } ?? "" }
    }

    /// Everything read so far.
    var sofar: String { buffer.lock.withLock { String(decoding: buffer.data, as: UTF8.self) } }

    /// Waits until the output contains `text`; false after `timeout` or at EOF without it.
    func wait(for text: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if sofar.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return sofar.contains(text)
    }

    func text() async -> String { await done.value }
}
