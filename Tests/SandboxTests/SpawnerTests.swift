import CorralModel
import Foundation
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
