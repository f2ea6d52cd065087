import Foundation
import TestSupport
import Testing

/// cgroup enforcement on real kernels: Tests/vm/run boots Debian's cloud kernel under qemu (TCG) with a
/// pure cgroup2 tree and again with v1 controllers only, runs Tests/vm/suite.sh with the real `corral`
/// binary inside, and prints one `CORRAL-RESULT mode check PASS|FAIL detail` line per check. Each check
/// is a test here; its failure message is the guest's measurement (which limit, and by how much).
@Suite(
    .serialized, .timeLimit(.minutes(8)),  // a starved TCG boot is retried once: up to 2 x 150 s for one mode
    .enabled(
        if: Preconditions.met(
            .root, .binary("qemu-system-x86_64", package: "qemu-system-x86"), .binary("cpio", package: "cpio")))
)
struct VMTests {
    static let requirements: [Requirement] = [
        .root, .binary("qemu-system-x86_64", package: "qemu-system-x86"), .binary("cpio", package: "cpio"),
        .file("/bin/busybox", hint: "apt-get install busybox-static"),
    ]
    static let common = [
        "cgroup_membership", "memory_limit_file", "oom_kill_counted", "oom_reported", "memory_peak", "cpu_quota",
        "cpu_throttled", "pids_max", "io_limit_file", "io_write_bps", "io_accounted", "timeout_kill", "cleanup",
    ]
    static let v2Checks = common + ["psi_reported"]
    static let v1Checks = common + ["psi_absent_is_null"]

    @Test(arguments: v2Checks)
    func pureV2Kernel(check: String) async throws {
        try await expect(check, in: "v2")
    }

    @Test(arguments: v1Checks)
    func pureV1Kernel(check: String) async throws {
        try await expect(check, in: "v1")
    }

    func expect(_ check: String, in mode: String) async throws {
        let missing = Self.requirements.filter { !$0.isMet }.map(\.message)
        try #require(missing.isEmpty, "\(missing)")
        let run = try await GuestRuns.shared.run(mode)
        let result = try #require(
            run.results[check], "the \(mode) guest reported no \(check); console tail:\n\(run.tail)")
        #expect(result.passed, "\(mode) \(check): \(result.detail)")
    }
}

/// One boot per mode, shared by that mode's checks.
actor GuestRuns {
    static let shared = GuestRuns()

    struct Run {
        var results: [String: (passed: Bool, detail: String)]
        var tail: String
    }

    private var runs: [String: Task<Run, any Error>] = [:]

    func run(_ mode: String) async throws -> Run {
        if let existing = runs[mode] { return try await existing.value }
        let task = Task { try await Self.boot(mode) }
        runs[mode] = task
        return try await task.value
    }

    static func boot(_ mode: String) async throws -> Run {
        let log = NSTemporaryDirectory() + "corral-vm-\(mode)-\(getpid()).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: repositoryRoot() + "/Tests/vm/run")
        process.arguments = [mode]
        process.standardOutput = output
        process.standardError = output
        // Wait through the termination handler: a 30 s boot must not hold one of the pool's threads.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        let text = try String(contentsOfFile: log, encoding: .utf8)
        print(text)  // the console summary belongs in the test log
        var results: [String: (Bool, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("CORRAL-RESULT \(mode) ") {
            let fields = line.split(separator: " ", maxSplits: 4)
            guard fields.count >= 4 else { continue }
            results[String(fields[2])] = (fields[3] == "PASS", fields.count > 4 ? String(fields[4]) : "")
        }
        return Run(results: results, tail: text.split(separator: "\n").suffix(25).joined(separator: "\n"))
    }
}
