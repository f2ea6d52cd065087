import CorralModel
import Foundation
import TestSupport
import Testing

@testable import Sandbox

/// Finding a task again from its adoption record, as a restarted agent does (a live task adopted after a
/// SIGKILLed agent is ClusterTests' re-adoption test).
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(1)))
struct AdoptionTests {
    /// A record's pid now belongs to another process (the task ended and the pid was reused): the start
    /// time tells them apart, so the record is judged ended and that process is neither adopted nor signalled.
    @Test func aRecycledPidIsNotAdoptedAndItsNewOwnerIsLeftAlone() async throws {
        let harness = try Harness()
        let directory = TemporaryDirectory()
        var record: AdoptionRecord?
        let (outcome, _) = try await harness.run(harness.spec("exit 0") { $0.statusFile = directory.path + "/status" })
        {
            record = $0.record
        }
        #expect(outcome.exitCode == 0)
        var recycled = try #require(record, "a task with a status file has an adoption record")

        // A pid reused within the same clock tick (10 ms) would have the same start time; a real reuse
        // needs the pid space to wrap first. The stranger starts in a later tick.
        try await Task.sleep(for: .milliseconds(30))
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
        stranger.arguments = ["300"]
        try stranger.run()
        defer {
            if stranger.isRunning { kill(stranger.processIdentifier, SIGKILL) }
            stranger.waitUntilExit()
        }
        try #require(
            ProcessStartTime.read(stranger.processIdentifier) != recycled.startTime,
            "the stranger started in the task's clock tick")
        recycled.pid = stranger.processIdentifier  // the ended task's start time, another process's pid
        switch await harness.sandbox.adopt(recycled) {
        case .running(let task):
            Issue.record("adopted pid \(task.pid), which is not the task")
        case .ended:
            break  // judged ended: what a restarted agent reports for it
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(stranger.isRunning, "the process now behind the recorded pid was killed")
    }

}
