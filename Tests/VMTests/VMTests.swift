import Foundation
import TestSupport
import Testing

/// cgroup enforcement on real kernels: Tests/vm/run boots Debian's cloud kernel under qemu (TCG) with a
/// pure cgroup2 tree and again with v1 controllers only, runs Tests/vm/suite.sh with the real `corral`
/// binary inside, and prints one `CORRAL-RESULT mode check PASS|FAIL detail` line per check. Each check
/// is a test here; its failure message is the guest's measurement (which limit, and by how much).
@Suite(
    .serialized, .timeLimit(.minutes(12)),  // a boot that does not finish is retried once: up to 2 x 150 s a mode
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
        "cgroup_namespace", "seccomp", "masked_paths", "device_allowlist",
    ]
    static let v2Checks = common + ["psi_reported"]
    static let v1Checks = common + ["psi_absent_is_null"]

    /// The guest's suite ran to its end with status 0 in the boot the results come from, and the
    /// harness (which also fails on a guest that never finished) exited 0.
    @Test(arguments: ["v2", "v1"])
    func theGuestSuiteFinishedCleanly(mode: String) async throws {
        let missing = Self.requirements.filter { !$0.isMet }.map(\.message)
        try #require(missing.isEmpty, "\(missing)")
        let run = try await GuestRuns.shared.run(mode)
        #expect(
            run.done == "CORRAL-VM-DONE status=0", "\(mode): \(run.done ?? "no DONE line"); console tail:\n\(run.tail)")
        #expect(run.status == 0, "Tests/vm/run \(mode) exited \(run.status); console tail:\n\(run.tail)")
        let expected = Set(mode == "v2" ? Self.v2Checks : Self.v1Checks)
        #expect(Set(run.results.keys) == expected, "\(mode) checks reported: \(run.results.keys.sorted())")
    }

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
        /// The last boot's `CORRAL-VM-DONE status=N` line.
        var done: String?
        /// Tests/vm/run's exit status.
        var status: Int32
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
        // Only the last boot counts: a starved first boot's result lines are left out.
        let lines = text.split(separator: "\n")
        let lastBoot = lines.lastIndex { $0 == "CORRAL-VM-BOOT \(mode)" }.map { $0 + 1 } ?? lines.startIndex
        var results: [String: (Bool, String)] = [:]
        var done: String?
        for line in lines[lastBoot...] {
            if line.hasPrefix("CORRAL-VM-DONE") { done = String(line) }
            guard line.hasPrefix("CORRAL-RESULT \(mode) ") else { continue }
            let fields = line.split(separator: " ", maxSplits: 4)
            guard fields.count >= 4 else { continue }
            results[String(fields[2])] = (fields[3] == "PASS", fields.count > 4 ? String(fields[4]) : "")
        }
        return Run(
            results: results, done: done, status: process.terminationStatus,
            tail: lines.suffix(25).joined(separator: "\n"))
    }
}
