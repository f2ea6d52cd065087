import Cgroups
import CorralModel
import Foundation
import Sandbox
import TestSupport
import Testing

/// A command run inside a running task (exec health checks) has the task's confinement and no more: its
/// user, namespaces, cgroups, seccomp filter, no capabilities; it is killed at its timeout.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(2)))
struct EnterTests {
    /// Runs `body` while a task that sleeps is running; the task is killed afterwards.
    func withRunningTask(
        _ configure: (inout TaskSpec) -> Void = { _ in }, _ body: (Harness, SandboxedTask) async throws -> Void
    ) async throws {
        let harness = try Harness()
        let spec = harness.spec("echo ready; exec sleep 60", configure)
        _ = try await harness.run(spec, ready: "ready") { task in
            defer { Task { await task.kill() } }
            try await body(harness, task)
        }
    }

    @Test func theCommandRunsAsTheTaskInItsNamespacesCgroupsAndSeccompFilter() async throws {
        try await withRunningTask { harness, task in
            let script = """
                id -u; id -G; hostname; pwd; echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo
                grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status
                cat /proc/self/cgroup
                """
            let result = try await harness.sandbox.run(
                ["/bin/sh", "-c", script], in: task, environment: ["GREETING": "hi"], timeout: .seconds(10))
            #expect(result.status == .exited(0), "\(result.output)")
            let lines = result.output.split(separator: "\n").map(String.init)
            let user = try #require(task.user)
            #expect(lines.first == String(user.uid), "the task's uid: \(result.output)")
            #expect(lines.dropFirst().first == user.groups.map(String.init).joined(separator: " "), "\(result.output)")
            #expect(lines.dropFirst(2).first == task.id, "the task's uts namespace: \(result.output)")
            #expect(lines.dropFirst(3).first == harness.sandbox.config.workMount, "\(result.output)")
            let pid = try #require(lines.dropFirst(4).first.flatMap { Int($0) }, "\(result.output)")
            #expect(pid > 2 && pid < 100, "a pid of the task's pid namespace: \(result.output)")
            #expect(lines.dropFirst(5).first?.hasPrefix("sleep 60") == false, "\(result.output)")
            for field in ["CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"] {
                #expect(lines.contains(field), "\(field) in \(result.output)")
            }
            // In every hierarchy the command sits at the root of the task's cgroup namespace: the task's cgroup.
            let cgroups = lines.filter {
                $0.contains("::") || $0.split(separator: ":").count == 3 && $0.first!.isNumber
            }
            #expect(!cgroups.isEmpty && cgroups.allSatisfy { $0.hasSuffix(":/") }, "\(cgroups)")
        }
    }

    @Test func theCommandIsCountedInTheTasksCgroup() async throws {
        try await withRunningTask { harness, task in
            let before = Set(task.cgroup.processes())
            let probe = Task { try await harness.sandbox.run(["sleep", "2"], in: task, timeout: .seconds(10)) }
            // Seen from the host while it runs: a process of the task's cgroup that is neither PID 1 nor the task.
            var extra: Set<pid_t> = []
            for _ in 0..<60 where extra.isEmpty {
                try await Task.sleep(for: .milliseconds(25))
                extra = Set(task.cgroup.processes()).subtracting(before)
            }
            #expect(try await probe.value.status == .exited(0))
            #expect(!extra.isEmpty, "the command joined the task's cgroup")
        }
    }

    @Test func aCommandPastItsTimeoutIsKilledAndReaped() async throws {
        try await withRunningTask { harness, task in
            let started = ContinuousClock.now
            let result = try await harness.sandbox.run(
                ["/bin/sh", "-c", "echo started; exec sleep 29.987"], in: task, timeout: .milliseconds(300))
            #expect(result.status == nil, "killed at its timeout: \(result)")
            #expect(result.output == "started\n")
            #expect(ContinuousClock.now - started < .seconds(10))
            // Gone and reaped when run returns: left to the host's reaper (its parent being outside the task's
            // pid namespace), its zombie would hold up the end of the task's PID 1.
            #expect(Harness.processes(containing: "sleep 29.987").isEmpty)
            let zombies = Self.zombies(named: "sleep")
            #expect(zombies.isEmpty, "\(zombies)")
        }
    }

    /// Processes in state Z whose command name is `name`.
    static func zombies(named name: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
            return stat.contains("(\(name)) Z ") ? stat : nil
        }
    }

    @Test func outputPastTheLimitIsReadAndDropped() async throws {
        try await withRunningTask { harness, task in
            let result = try await harness.sandbox.run(
                ["/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; exit 3"], in: task, timeout: .seconds(10),
                outputLimit: 100)
            #expect(result.status == .exited(3))
            #expect(result.output == String(repeating: "a", count: 100))
            #expect(result.truncated == 300000 - 100)
        }
    }

    @Test func aMissingCommandOrAnEndedTaskIsAnError() async throws {
        try await withRunningTask { harness, task in
            await #expect(throws: SandboxError.self) {
                try await harness.sandbox.run(["/no/such/check"], in: task, timeout: .seconds(5))
            }
            await task.kill()
            _ = await task.wait()
            await #expect(throws: SandboxError.self) {
                try await harness.sandbox.run(["true"], in: task, timeout: .seconds(5))
            }
        }
    }
}
