import Cgroups
import CorralModel
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Sandbox

/// The Sandbox's spawner: launches go through it, and a spawner that died is replaced.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(1)))
struct SpawnerTests {
    @Test func aKilledSpawnerIsReplacedAndLaunchesGoOn() async throws {
        let harness = try Harness()
        let spawner = try #require(harness.sandbox.spawner, "the sandbox runs without a spawner")
        let before = try #require(spawner.pid)
        kill(before, SIGKILL)
        let (outcome, output) = try await harness.run(harness.spec("echo still here"))
        #expect(outcome.exitCode == 0 && output == "still here\n")
        let after = try #require(spawner.pid)
        #expect(after != before, "a new spawner serves the launch")
    }

    @Test func withoutASpawnerTasksAreClonedInProcess() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty)
        let sandbox = try Sandbox(config: SandboxConfig(useSpawner: false))
        #expect(sandbox.spawner == nil)
        let (outcome, output) = try await Harness(sandbox: sandbox).run(
            Harness(sandbox: sandbox).spec("echo in process"))
        #expect(outcome.exitCode == 0 && output == "in process\n")
    }
}

/// Kernels before 5.7 have no CLONE_INTO_CGROUP: PID 1 is then held until its pid is in cgroup.procs.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(1)))
struct CloneFallbackTests {
    @Test func withoutCloneIntoCgroupTheTaskStillStartsInsideItsCgroup() async throws {
        let harness = try Harness()
        harness.sandbox.cloneIntoCgroup.store(false, ordering: .relaxed)
        // PID 1 unshares its cgroup namespace only after it was released, so a task whose cgroup reads as
        // `/` everywhere started inside its cgroups; the host sees PID 1 and the task there.
        let spec = harness.spec("cat /proc/self/cgroup; sleep 0.2")
        var members: [pid_t] = []
        let (outcome, output) = try await harness.run(spec) { task in members = task.cgroup.processes() }
        #expect(outcome.exitCode == 0)
        let lines = output.split(separator: "\n")
        #expect(lines.contains("0::/") && lines.allSatisfy { $0.hasSuffix(":/") }, "cgroup namespace: \(output)")
        #expect(members.count >= 2, "PID 1 and the task in the cgroup: \(members)")
        if harness.sandbox.host.mode != .unified {
            #expect(lines.contains { $0.contains(":memory:") }, "v1 hierarchies listed: \(output)")
        }
    }
}
