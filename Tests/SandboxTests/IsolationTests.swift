import Cgroups
import CorralModel
import Foundation
import Sandbox
import TestSupport
import Testing

/// What a task sees: PID 2 under a reaper, its hostname, private /tmp and /proc, no privileges, only
/// loopback, only its image. Real processes on this host.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(2)))
struct IsolationTests {
    @Test func theTaskIsPid2UnderAReaperWithItsOwnHostname() async throws {
        let harness = try Harness()
        let spec = harness.spec(
            // The subshell has exited when `( )` returns, so its child is an orphan by then; it sleeps far
            // longer than the test, and the sandbox's end kills it.
            "echo $$ $(hostname); (sleep 300 & echo $! > /tmp/orphan); grep PPid /proc/$(cat /tmp/orphan)/status"
        )
        let (outcome, output) = try await harness.run(spec)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(outcome.exitCode == 0, "\(output)")
        #expect(lines.first == "2 \(spec.id)")
        #expect(
            lines.last?.split(separator: "\t").last == "1", "an orphan is adopted by the sandbox's PID 1: \(output)")
    }

    @Test func theTaskCannotSeeTheHostsTmpAndHasItsOwnProc() async throws {
        let harness = try Harness()
        let marker = "/tmp/corral-host-only-\(getpid())"
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let (outcome, output) = try await harness.run(
            harness.spec("test -e \(marker) && echo visible; ls /proc | grep -c '^[0-9]'; ls /tmp | wc -l"))
        #expect(outcome.exitCode == 0)
        #expect(!output.contains("visible"), "host /tmp leaked into the sandbox")
        let counts = output.split(separator: "\n").compactMap { Int($0) }
        #expect(counts.first.map { $0 <= 6 } == true, "only the sandbox's processes in /proc: \(output)")
        #expect(counts.last == 0, "a fresh, empty /tmp")
    }

    @Test func theTaskRunsUnprivilegedWithNoCapabilities() async throws {
        let harness = try Harness()
        let script = "id -u; grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status"
        let (outcome, output) = try await harness.run(harness.spec(script))
        let lines = output.split(separator: "\n").map(String.init)
        #expect(outcome.exitCode == 0)
        let uid = try #require(lines.first.flatMap { UInt32($0) }, "\(output)")
        #expect(harness.sandbox.config.identities.contains(uid), "a uid of the task's own: \(output)")
        for cap in ["CapEff", "CapPrm", "CapBnd", "CapAmb"] {
            #expect(
                lines.contains { $0.hasPrefix(cap + ":") && $0.hasSuffix("0000000000000000") }, "\(cap): \(output)")
        }
        #expect(lines.contains { $0.hasPrefix("NoNewPrivs:") && $0.hasSuffix("1") })
    }

    @Test func theTaskDoesNotInheritTheAgentsOOMProtection() async throws {
        let harness = try Harness()
        let original = try String(contentsOfFile: "/proc/self/oom_score_adj", encoding: .utf8)
        // Any value other than 0 will do; raising needs no CAP_SYS_RESOURCE (which CI machines may lack).
        try "300".write(toFile: "/proc/self/oom_score_adj", atomically: false, encoding: .utf8)
        defer { try? original.write(toFile: "/proc/self/oom_score_adj", atomically: false, encoding: .utf8) }
        let (outcome, output) = try await harness.run(harness.spec("cat /proc/self/oom_score_adj"))
        #expect(outcome.exitCode == 0)
        #expect(output == "0\n", "the task kept the launcher's OOM score: \(output)")
    }

    @Test func theWorkDirectoryIsMountedAtWorkAndRemovedAfterwards() async throws {
        let harness = try Harness()
        let spec = harness.spec("pwd; echo data > /work/file && cat /work/file")
        let workDirectory = harness.sandbox.config.workRoot + "/" + spec.id
        var existed = false
        let (outcome, output) = try await harness.run(spec) { _ in
            existed = FileManager.default.fileExists(atPath: workDirectory)
        }
        #expect(outcome.exitCode == 0)
        #expect(output == "/work\ndata\n")
        #expect(existed, "the work directory lives at \(workDirectory) while the task runs")
        #expect(!FileManager.default.fileExists(atPath: workDirectory), "\(workDirectory) left behind")
    }

    @Test func networkNoneHasOnlyLoopbackAndItIsUp() async throws {
        let harness = try Harness()
        let ip = try #require(
            Requirement.which("ip")
                ?? ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"].first { FileManager.default.fileExists(atPath: $0) },
            "needs ip: apt-get install iproute2")
        let (outcome, output) = try await harness.run(
            harness.spec("\(ip) -o link | cut -d: -f2; \(ip) -o link show lo"))
        #expect(outcome.exitCode == 0, "\(output)")
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first == "lo" && lines.count == 2, "interfaces: \(output)")
        #expect(lines.last?.contains("UP") == true, "loopback is up: \(output)")
    }

    @Test func aMissingBinaryFailsWithAClearErrorNamingThePath() async throws {
        let harness = try Harness()
        var spec = harness.spec("")
        spec.argv = ["/opt/nowhere/tool", "--flag"]
        await #expect {
            _ = try await harness.run(spec)
        } throws: { error in
            guard let error = error as? SandboxError else { return false }
            return error.code == .exec && error.path == "/opt/nowhere/tool" && error.launcherExitCode == 127
                && error.message == "cannot execute /opt/nowhere/tool: No such file or directory (errno 2)"
        }
    }

    /// What the sandbox mounts into an image's root when the image lacks the directory.
    static let sandboxMountPoints: Set<String> = ["work", "proc", "tmp", "dev"]

    @Test func anImageTaskSeesOnlyTheImage() async throws {
        try #require(
            Preconditions.missing(.binary("busybox", package: "busybox-static")).isEmpty
                || Requirement.which("apt-get") != nil)
        let images = TemporaryDirectory("corral-images")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [repositoryRoot() + "/Images/busybox/build.sh", images.path + "/busybox/rootfs"]
        build.standardOutput = FileHandle.nullDevice
        try build.run()
        build.waitUntilExit()
        try #require(build.terminationStatus == 0, "Images/busybox/build.sh failed: apt-get install busybox-static")
        let sandbox = try Sandbox(config: SandboxConfig(imagesDirectory: images.path))
        let harness = try Harness()
        var spec = harness.spec(
            "ls /; test -e /usr/lib/x86_64-linux-gnu && echo host-visible; touch /etc/x 2>/dev/null || echo read-only; echo w > /work/f && cat /work/f"
        )
        spec.image = "busybox"
        let (outcome, output) = try await Harness(sandbox: sandbox).run(spec)
        #expect(outcome.exitCode == 0, "\(output)")
        let listed = Set(output.split(separator: "\n").prefix { $0 != "read-only" }.map(String.init))
        let imageRoot = Set(try FileManager.default.contentsOfDirectory(atPath: images.path + "/busybox/rootfs"))
        // Exactly the image's root, plus the mount points the sandbox itself provides.
        #expect(
            listed.subtracting(imageRoot).isSubset(of: Self.sandboxMountPoints) && imageRoot.isSubset(of: listed),
            "the image's root is what the task sees: \(listed.sorted()) against \(imageRoot.sorted())")
        #expect(!output.contains("host-visible"))
        #expect(output.contains("read-only\nw\n"), "the image is read-only, /work is writable: \(output)")
    }
}

extension Harness {
    init(sandbox: Sandbox) { self.sandbox = sandbox }
}
