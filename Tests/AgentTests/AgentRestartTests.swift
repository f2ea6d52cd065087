import Cgroups
import CorralModel
import CorralProtocol
import Foundation
import Logging
import Sandbox
import TestSupport
import Testing

@testable import Agent

/// What an agent that starts after a crash does with the records its previous run left (real sandbox,
/// real cgroups; no scheduler is needed until it registers, which these tests never reach).
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(1)))
struct AgentRestartTests {
    static func allocation(_ text: String) throws -> Allocation {
        Allocation(
            id: try #require(AllocationID(text)), tenant: "t", command: ["/bin/sleep", "300"], environment: [:],
            image: nil, resources: Resources(cpu: 0.1, memory: 16 << 20), timeoutMs: nil)
    }

    /// The crash came after the task's cgroup, work directory and process were made but before the launch
    /// was recorded as done (the record still says `starting`). The new agent kills the process, removes
    /// the cgroup and the work directory, and reports the allocation failed with the reason.
    @Test func aLaunchCutShortByACrashIsUndoneAndReportedFailed() async throws {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        let directory = TemporaryDirectory("corral-agent-restart")
        let parent = "corral-test-agent-\(getpid())-\(UInt32.random(in: 0 ... .max)).slice"
        let configuration = AgentConfiguration(
            schedulerURL: "http://127.0.0.1:9", token: "unused", nodeID: "n1", dataDir: directory.path,
            sandbox: SandboxConfig(cgroupParent: parent, killGrace: .milliseconds(300)))
        let allocation = try Self.allocation("j1.0.1")
        let id = allocation.id

        // What the crashed agent left: a `starting` record, and the task it was launching.
        let store = try AllocationStore(directory: configuration.allocationsDir)
        try store.create(StoredAllocation(allocation: allocation, phase: .starting))
        let sandbox = try Sandbox(config: configuration.sandbox)
        try CgroupParent.prepare(parent, host: sandbox.host)
        let orphan = try await sandbox.launch(
            TaskSpec(id: id.description, argv: allocation.command, limits: CgroupLimits(cpuCores: 0.1)))
        let cgroupDirectories = [orphan.cgroup.unifiedPath].compactMap { $0 } + orphan.cgroup.legacyDirectories
        let work = configuration.sandbox.workRoot + "/\(id)"
        try #require(!cgroupDirectories.isEmpty && FileManager.default.fileExists(atPath: work))

        let agent = try Agent(configuration: configuration, logger: Logger(label: "test"))
        await agent.adoptAll()

        // The undo runs on a task of its own; the orphan's end is seen through its pidfd.
        let ended = await orphan.wait()
        #expect(ended.signal == SIGKILL, "the half-launched task was killed: \(ended)")
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline,
            cgroupDirectories.contains(where: { FileManager.default.fileExists(atPath: $0) })
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        for path in cgroupDirectories { #expect(!FileManager.default.fileExists(atPath: path), "\(path) left") }
        #expect(!FileManager.default.fileExists(atPath: work), "the work directory was left")

        let entry = try #require(await agent.entries[id], "the allocation is kept until its report is delivered")
        #expect(entry.machine.state == .ended)
        let report = try #require(Agent.report(entry))
        #expect(report.state == .failed)
        #expect(report.error?.contains("launch was undone") == true, "\(report)")
        // And the record on disk says so, for an agent that crashes again before delivering it.
        let reloaded = store.loadAll().records.first { $0.allocation.id == id }
        #expect(reloaded?.phase == .ended && reloaded?.report?.state == .failed)
        CgroupParent.removeIfEmpty(parent, host: sandbox.host)
    }
}
