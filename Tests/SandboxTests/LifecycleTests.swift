import CSandbox
import Cgroups
import CorralModel
import Foundation
import TestSupport
import Testing

@testable import Sandbox

/// Timeouts, stops, signals, status files and cleanup, with real processes.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(2)))
struct LifecycleTests {
    @Test func aTimeoutLeavesNoProcessBehindEvenADoubleForkedSetsidSleeper() async throws {
        let harness = try Harness()
        let marker = "3\(UInt32.random(in: 100_000 ... 999_999))"
        // The setsid shell says when its backgrounded sleeper runs; the timeout is long enough for the
        // handshake on a busy host and still ends the task long before the sleepers would.
        let spec = harness.spec(
            "trap '' TERM; setsid sh -c 'sleep \(marker) & echo forked; sleep \(marker)' & sleep \(marker)"
        ) {
            $0.timeout = .seconds(3)
        }
        let (outcome, _) = try await harness.run(spec, ready: "forked") { _ in
            #expect(!Harness.processes(containing: "sleep \(marker)").isEmpty, "the sleepers should be running")
        }
        #expect(outcome.timedOut)
        #expect(outcome.signal == 9, "TERM was ignored, so the cgroup kill ended it: \(outcome)")
        #expect(Harness.processes(containing: "sleep \(marker)").isEmpty, "processes left behind")
    }

    @Test func stopSendsTermWhichTheTaskMayHandle() async throws {
        let harness = try Harness()
        let spec = harness.spec("trap 'exit 42' TERM; echo trapped; while :; do sleep 0.05; done")
        let (outcome, _) = try await harness.run(spec, ready: "trapped") { task in await task.stop() }
        #expect(outcome.exitCode == 42 && !outcome.timedOut, "\(outcome)")
    }

    @Test func signalsAreForwardedByPid1ToTheTask() async throws {
        let harness = try Harness()
        let spec = harness.spec("trap 'exit 11' HUP; trap 'exit 12' USR1; echo trapped; while :; do sleep 0.05; done")
        let (outcome, _) = try await harness.run(spec, ready: "trapped") { task in await task.signal(SIGUSR1) }
        #expect(outcome.exitCode == 12, "\(outcome)")
    }

    @Test func aSignalAfterTheEndReachesNobody() async throws {
        let harness = try Harness()
        var finished: SandboxedTask?
        let (outcome, _) = try await harness.run(harness.spec("exit 0")) { finished = $0 }
        #expect(outcome.exitCode == 0)
        let task = try #require(finished)
        // Another process's pidfd now sits on exactly the descriptor number the finished task used.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["5"]
        try sleeper.run()
        defer { if sleeper.isRunning { kill(sleeper.processIdentifier, SIGKILL) } }
        let pidfd = corral_pidfd_open(sleeper.processIdentifier)
        try #require(pidfd >= 0)
        try #require(dup2(pidfd, task.pidfd) == task.pidfd)
        close(pidfd)
        defer { close(task.pidfd) }
        await task.signal(SIGKILL)
        try await Task.sleep(for: .milliseconds(100))
        #expect(sleeper.isRunning, "a signal to a finished task killed the process now behind its old descriptor")
    }

    @Test func killEndsEverythingAtOnce() async throws {
        let harness = try Harness()
        let start = ContinuousClock.now
        let (outcome, _) = try await harness.run(harness.spec("trap '' TERM; echo trapped; sleep 30"), ready: "trapped")
        {
            task in await task.kill()
        }
        #expect(outcome.signal == 9)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func theStatusFileRecordsHowTheTaskEnded() async throws {
        let harness = try Harness()
        let dir = TemporaryDirectory()
        let (outcome, _) = try await harness.run(harness.spec("exit 3") { $0.statusFile = dir.path + "/status" })
        #expect(outcome.exitCode == 3)
        #expect(dir.read("status") == "exit 3\n")
    }

    @Test func everythingCorralCreatedIsRemoved() async throws {
        let harness = try Harness()
        var directories: [String] = []
        let (outcome, _) = try await harness.run(
            harness.spec("sleep 0.1") { $0.limits = CgroupLimits(cpuCores: 1, memoryMax: 64 << 20, pidsMax: 64) }
        ) { task in
            directories = [task.cgroup.unifiedPath].compactMap { $0 } + task.cgroup.legacyDirectories
        }
        #expect(outcome.exitCode == 0)
        #expect(!directories.isEmpty)
        for dir in directories { #expect(!FileManager.default.fileExists(atPath: dir), "\(dir) left behind") }
        let parent = harness.sandbox.host.unifiedMount.map { $0 + "/" + harness.sandbox.config.cgroupParent }
        if let parent { #expect(FileManager.default.fileExists(atPath: parent), "the shared parent stays") }
    }
}
