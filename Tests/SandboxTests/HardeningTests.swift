import Cgroups
import CorralModel
import Foundation
import Sandbox
import Synchronization
import SystemSupport
import TestSupport
import Testing

@testable import Sandbox

/// What a hostile task can no longer do (issue 19): reach another task or the host's shared directories,
/// write outside /work, /tmp and /dev/shm, make the calls of the seccomp filter, read masked paths, open a
/// device outside the allowlist, run as root, or have Corral trust a directory someone else made.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct HardeningTests {
    @Test func twoLiveTasksHaveTheirOwnUidsAndNeitherCanReachTheOther() async throws {
        let harness = try Harness()
        let marker = "corral-marker-\(UInt32.random(in: 0 ... .max))"
        let a = harness.spec(
            "echo secret > /work/\(marker); echo s > /tmp/\(marker); echo s > /dev/shm/\(marker); id -u; echo ready; sleep 30"
        )
        let workA = harness.sandbox.config.workRoot + "/" + a.id
        let probe = """
            id -u
            find / \\( -path /proc -o -path /sys \\) -prune -o -name '\(marker)*' -print 2>/dev/null
            for p in \(workA) \(harness.sandbox.config.workRoot) \(harness.sandbox.config.runtimeDirectory) /proc/1/root/work; do
              ls $p >/dev/null 2>&1 && echo "reached $p"
            done
            for d in / /etc /usr /usr/bin /bin /proc/sys/kernel /sys /dev /var /root; do
              touch $d/\(marker)-w 2>/dev/null && echo "wrote $d"
            done
            for d in /work /tmp /dev/shm; do touch $d/own && echo "own $d"; done
            """
        var bOutput = ""
        let (_, aOutput) = try await harness.run(a, ready: "ready") { task in
            let (outcome, output) = try await harness.run(harness.spec(probe))
            #expect(outcome.exitCode == 0, "\(output)")
            bOutput = output
            await task.kill()
        }
        let uidA = aOutput.split(separator: "\n").first.map(String.init)
        let bLines = bOutput.split(separator: "\n").map(String.init)
        #expect(uidA != nil && bLines.first != uidA, "two live tasks, two uids: \(aOutput) / \(bOutput)")
        #expect(!bOutput.contains(marker), "B found A's files: \(bOutput)")
        #expect(!bOutput.contains("reached"), "B reached A's directory: \(bOutput)")
        #expect(!bOutput.contains("wrote"), "B wrote outside /work, /tmp and /dev/shm: \(bOutput)")
        #expect(bLines.filter { $0.hasPrefix("own ") }.count == 3, "B writes its own /work, /tmp, /dev/shm: \(bOutput)")
    }

    @Test func theHostsSharedDirectoriesAreNotVisibleAndNothingStaysBehind() async throws {
        let harness = try Harness()
        let name = "corral-shared-\(UInt32.random(in: 0 ... .max))"
        let hostFiles = ["/var/tmp/\(name)", "/dev/shm/\(name)", "/run/lock/\(name)"]
        for file in hostFiles { _ = FileManager.default.createFile(atPath: file, contents: Data("host".utf8)) }
        defer { for file in hostFiles { try? FileManager.default.removeItem(atPath: file) } }
        let script =
            hostFiles.map { "test -e \($0) && echo 'visible \($0)'" }.joined(separator: "; ")
            + "; for d in /var/tmp /run/lock /home /root /srv /run; do test -e $d && echo \"exists $d\"; done"
            + "; echo left > /dev/shm/\(name)-task; true"
        let (outcome, output) = try await harness.run(harness.spec(script))
        #expect(outcome.exitCode == 0, "\(output)")
        #expect(!output.contains("visible"), "host files seen: \(output)")
        #expect(!output.contains("exists"), "host directories seen: \(output)")
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/\(name)-task"), "the task's /dev/shm is private")
    }

    @Test func seccompIsOnAndTheDangerousCallsFailWithEPERM() async throws {
        let harness = try Harness()
        let python = try #require(
            ["/usr/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "needs Debian's /usr/bin/python3: apt-get install python3")
        // x86_64 numbers; each call gets harmless arguments, so only the filter decides the errno.
        let calls = [
            ("unshare_user", "272, 0x10000000"), ("keyctl", "250, 0"), ("bpf", "321, 0, 0, 0"),
            ("perf_event_open", "298, 0, 0, -1, -1, 0"), ("io_uring_setup", "425, 1, 0"),
            ("mount", "165, 0, 0, 0, 0, 0"), ("userfaultfd", "323, 0"), ("setns", "308, 0, 0"),
            ("add_key", "248, 0, 0, 0, 0, 0"), ("open_by_handle_at", "304, 0, 0, 0"), ("personality", "135, 0x0400000"),
        ]
        let program =
            "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            + calls.map { name, args in
                "r = libc.syscall(\(args)); print('\(name)', r, ctypes.get_errno())"
            }.joined(separator: "\n")
        try #require(FileManager.default.isExecutableFile(atPath: python))
        let script = """
            grep Seccomp: /proc/self/status
            unshare -U true 2>&1 || echo "unshare-cli refused"
            \(python) -c "\(program)"
            if [ -x /usr/bin/cc ]; then echo 'int main(void){return 7;}' > /tmp/t.c && cc -o /tmp/t /tmp/t.c && /tmp/t; echo "compiled $?"; fi
            echo ok | tr o O; busybox true 2>/dev/null; echo "pid $$"
            """
        let (outcome, output) = try await harness.run(harness.spec(script))
        #expect(outcome.exitCode == 0, "\(output)")
        #expect(output.contains("Seccomp:\t2"), "\(output)")
        #expect(output.contains("unshare-cli refused"), "\(output)")
        for (name, _) in calls {
            #expect(output.contains("\(name) -1 1\n"), "\(name) must fail with EPERM: \(output)")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") {
            #expect(output.contains("compiled 7"), "a compile with cc still works: \(output)")
        }
        #expect(output.contains("Ok\n"), "\(output)")
    }

    @Test func anOperatorMayRunATaskUnconfinedButNotAsRoot() async throws {
        let sandbox = try Sandbox(config: SandboxConfig(seccomp: false, killGrace: .milliseconds(300)))
        let (outcome, output) = try await Harness(sandbox: sandbox).run(
            Harness(sandbox: sandbox).spec("grep Seccomp: /proc/self/status"))
        #expect(outcome.exitCode == 0 && output.contains("Seccomp:\t0"), "\(output)")
        let harness = try Harness()
        for user in ["root", "0"] {
            await #expect {
                _ = try await harness.run(harness.spec("true") { $0.user = user })
            } throws: { error in
                (error as? SandboxError)?.code == .user && "\(error)".hasPrefix("user: tasks never run as root")
            }
        }
    }

    @Test func maskedPathsAreEmptyReadOnlyPathsRefuseWritesAndTheCgroupIsRoot() async throws {
        let harness = try Harness()
        let script = """
            for f in /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/kcore; do
              test -e $f && echo "$f $(wc -c < $f)"
            done
            for d in /proc/acpi /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
              test -d $d && echo "$d $(ls -A $d | wc -l)"
            done
            for f in /proc/sys/kernel/core_pattern /proc/sys/vm/drop_caches /proc/sysrq-trigger; do
              test -e $f && { (echo 1 > $f) 2>/dev/null && echo "wrote $f" || echo "refused $f"; }
            done
            cat /proc/self/cgroup
            cut -d' ' -f5 /proc/self/mountinfo | sed 's/^/mp /'
            """
        let (outcome, output) = try await harness.run(harness.spec(script))
        #expect(outcome.exitCode == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        for line in lines where line.hasPrefix("/proc/") || line.hasPrefix("/sys/") {
            #expect(line.hasSuffix(" 0"), "masked: \(line)")
        }
        #expect(lines.contains { $0.hasPrefix("/proc/keys ") }, "/proc/keys exists and is masked: \(output)")
        #expect(lines.contains { $0.hasPrefix("/sys/firmware ") }, "/sys/firmware masked: \(output)")
        // Empty because masked, not because this uid may not read it: each one is a mount of its own.
        for line in lines where line.hasPrefix("/proc/") || line.hasPrefix("/sys/") {
            let path = String(line.split(separator: " ")[0])
            #expect(lines.contains("mp " + path), "\(path) is not masked by a mount: \(output)")
        }
        for path in ["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", "/sys"] {
            #expect(lines.contains("mp " + path), "\(path) is not a read-only mount: \(output)")
        }
        #expect(!output.contains("wrote"), "\(output)")
        #expect(lines.contains("refused /proc/sys/kernel/core_pattern"), "\(output)")
        let cgroups = lines.filter { $0.contains(":") && !$0.hasPrefix("/") }
        #expect(cgroups.contains("0::/") && cgroups.allSatisfy { $0.hasSuffix(":/") }, "\(output)")
    }

    @Test func onlyTheMinimalDevicesCanBeOpenedInATasksCgroup() async throws {
        let host = try CgroupHost.detect()
        let allowlist = try DeviceAllowlist(host: host)
        let cgroup = try Cgroup.create(
            name: "test-devices-\(UInt32.random(in: 0 ... .max))", parent: "corral.slice", host: host,
            legacyControllers: host.mode == .legacy ? ["devices"] : [])
        try allowlist.apply(to: cgroup)
        // As root, with every capability: only the allowlist stands between this shell and /dev/kmsg.
        let procs =
            cgroup.unifiedPath.map { $0 + "/cgroup.procs" } ?? (cgroup.legacyPaths["devices"]! + "/cgroup.procs")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [
            "-c",
            "echo $$ > \(procs) || exit 9; for d in /dev/null /dev/urandom /dev/tty /dev/kmsg /dev/mem /dev/loop-control; do (exec 3<$d) 2>/dev/null && echo \"open $d\" || echo \"denied $d\"; done",
        ]
        let out = Pipe()
        shell.standardOutput = out
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try await cgroup.remove()
        #expect(shell.terminationStatus == 0, "\(text)")
        #expect(text.contains("open /dev/null") && text.contains("open /dev/urandom"), "\(text)")
        for denied in ["/dev/kmsg", "/dev/mem", "/dev/loop-control"]
        where FileManager.default.fileExists(atPath: denied) {
            #expect(text.contains("denied \(denied)"), "\(denied) must be refused: \(text)")
        }
    }

    /// An image directory `NAME/rootfs` holding a static busybox and links for `tools`; returns the rootfs.
    static func busyboxImage(_ name: String, in images: TemporaryDirectory, tools: [String]) throws -> String {
        let rootfs = images.path + "/\(name)/rootfs"
        try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        let busybox = try #require(
            ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "needs a static busybox: apt-get install busybox-static")
        try FileManager.default.copyItem(atPath: busybox, toPath: rootfs + "/bin/busybox")
        for tool in tools {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/" + tool, withDestinationPath: "busybox")
        }
        return rootfs
    }

    @Test func aDeviceNodeShippedInAnImageCannotBeOpened() async throws {
        let images = TemporaryDirectory("corral-images")
        let rootfs = try Self.busyboxImage("devimage", in: images, tools: ["sh", "cat", "echo", "head"])
        for (name, kind, major, minor) in [("kmsg", "c", "1", "11"), ("disk", "b", "7", "0")] {
            let make = Process()
            make.executableURL = URL(fileURLWithPath: "/usr/bin/mknod")
            make.arguments = ["-m", "666", rootfs + "/" + name, kind, major, minor]
            try make.run()
            make.waitUntilExit()
            try #require(make.terminationStatus == 0, "mknod \(name)")
        }
        let sandbox = try Sandbox(config: SandboxConfig(imagesDirectory: images.path, killGrace: .milliseconds(300)))
        var spec = Harness(sandbox: sandbox).spec(
            "for d in /kmsg /disk /dev/null; do (exec 3<$d) 2>/dev/null && echo \"open $d\" || echo \"denied $d\"; done"
        )
        spec.image = "devimage"
        let (outcome, output) = try await Harness(sandbox: sandbox).run(spec)
        #expect(outcome.exitCode == 0, "\(output)")
        #expect(output == "denied /kmsg\ndenied /disk\nopen /dev/null\n", "\(output)")
    }

    @Test func aSymbolicLinkAtAnImagesMountPointFailsTheLaunchAndTouchesNothingOnTheHost() async throws {
        let images = TemporaryDirectory("corral-images")
        let host = TemporaryDirectory("corral-host-side")
        let volume = TemporaryDirectory("corral-volume")
        let rootfs = try Self.busyboxImage("linked", in: images, tools: ["sh"])
        // Absolute links: PID 1 still sees the host's tree when it makes the mount points.
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/data", withDestinationPath: host.path)
        let sandbox = try Sandbox(config: SandboxConfig(imagesDirectory: images.path, killGrace: .milliseconds(300)))
        let harness = Harness(sandbox: sandbox)
        var spec = harness.spec("true")
        spec.image = "linked"
        spec.mounts = [BindMount(source: volume.path, target: "/data/made", readOnly: true)]
        await #expect {
            _ = try await harness.run(spec)
        } throws: { error in
            "\(error)".contains("/data/made") && "\(error)".contains("symbolic links")
        }
        #expect(!FileManager.default.fileExists(atPath: host.path + "/made"), "a directory was made on the host")

        try FileManager.default.removeItem(atPath: rootfs + "/data")
        try FileManager.default.removeItem(atPath: rootfs + "/work")  // the mount point the first launch made
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/work", withDestinationPath: host.path)
        spec = harness.spec("true")
        spec.image = "linked"
        await #expect {
            _ = try await harness.run(spec)
        } throws: { error in
            "\(error)".contains("/work") && "\(error)".contains("symbolic links")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: host.path).isEmpty)
    }

    @Test func aFileIsBoundReadOnlyIntoAnImageButNeverThroughALink() async throws {
        let images = TemporaryDirectory("corral-images")
        let scratch = TemporaryDirectory("corral-resolv")
        let rootfs = try Self.busyboxImage("plain", in: images, tools: ["sh", "cat"])
        let source = scratch.path + "/resolv.conf"
        try "nameserver 10.1.2.3\n".write(toFile: source, atomically: true, encoding: .utf8)
        let sandbox = try Sandbox(config: SandboxConfig(imagesDirectory: images.path, killGrace: .milliseconds(300)))
        let harness = Harness(sandbox: sandbox)
        var spec = harness.spec("cat /etc/resolv.conf; (echo x > /etc/resolv.conf) 2>/dev/null || echo read-only")
        spec.image = "plain"
        spec.mounts = [BindMount(source: source, target: "/etc/resolv.conf", readOnly: true, file: true)]
        let (outcome, output) = try await harness.run(spec)
        #expect(outcome.exitCode == 0, "\(output)")
        #expect(output == "nameserver 10.1.2.3\nread-only\n", "the image had no /etc: its mount point was made")

        // A link where the file goes is not followed (the launch fails), and the host file stays as it was.
        let victim = scratch.path + "/victim"
        try "host\n".write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: rootfs + "/etc/resolv.conf")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/etc/resolv.conf", withDestinationPath: victim)
        spec = harness.spec("true")
        spec.image = "plain"
        spec.mounts = [BindMount(source: source, target: "/etc/resolv.conf", readOnly: true, file: true)]
        await #expect {
            _ = try await harness.run(spec)
        } throws: { error in
            "\(error)".contains("/etc/resolv.conf") && "\(error)".contains("symbolic links")
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "host\n")
    }

    @Test func aWorkRootSomeoneElseCreatedOrCanWriteIsRefused() throws {
        let scratch = TemporaryDirectory("corral-trust")
        chmod(scratch.path, 0o755)
        let cases: [(String, (String) -> Void)] = [
            ("owned by uid 65534", { chown($0, 65534, 65534) }),
            ("writable by group or others", { chmod($0, 0o777) }),
        ]
        for (expected, spoil) in cases {
            let runtime = scratch.path + "/runtime-\(UInt32.random(in: 0 ... .max))"
            mkdir(runtime, 0o711)
            spoil(runtime)
            #expect {
                _ = try Sandbox(config: SandboxConfig(workRoot: runtime + "/work"))
            } throws: { error in
                "\(error)".contains(runtime) && "\(error)".contains(expected)
            }
        }
        let real = scratch.path + "/real"
        mkdir(real, 0o711)
        let link = scratch.path + "/link"
        symlink(real, link)
        #expect {
            _ = try Sandbox(config: SandboxConfig(workRoot: link + "/work"))
        } throws: { error in
            "\(error)".contains(link) && "\(error)".contains("symlink")
        }
        #expect(!FileManager.default.fileExists(atPath: real + "/work"), "nothing was made through the link")
    }

    @Test func aUidRangeHoldingHostAccountsIsRefused() throws {
        #expect {
            _ = try Sandbox(config: SandboxConfig(identities: IdentityRange(first: 65520, last: 65535)))
        } throws: { error in
            "\(error)".contains("nobody") || "\(error)".contains("65534")
        }
    }

    @Test func aUidIsNeverLeasedTwiceAndComesBackOnlyWhenReleased() throws {
        let host = try CgroupHost.detect()
        let scratch = TemporaryDirectory("corral-ids")
        chmod(scratch.path, 0o700)
        let range = IdentityRange(first: 0x7100_0000, last: 0x7100_000F)
        let ids = try TaskIdentities(range: range, directory: scratch.path + "/ids", host: host)
        let leases = try (0..<16).map { index in try ids.lease(for: "corral.slice/nonexistent-\(index)") }
        #expect(Set(leases.map(\.uid)).count == 16 && leases.allSatisfy { range.contains($0.uid) })
        #expect(throws: SandboxError.self) { try ids.lease(for: "corral.slice/one-too-many") }
        // A second instance (another Corral process) sees the same leases.
        let other = try TaskIdentities(range: range, directory: scratch.path + "/ids", host: host)
        #expect(throws: SandboxError.self) { try other.lease(for: "corral.slice/other") }
        leases[5].release()
        #expect(try other.lease(for: "corral.slice/other").uid == leases[5].uid)
        // A lease whose cgroup is gone is taken over only once it is older than a minute.
        let stale = scratch.path + "/ids/\(leases[7].uid)"
        var times = [timespec(tv_sec: 1, tv_nsec: 0), timespec(tv_sec: 1, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, stale, &times, 0) == 0)
        #expect(try ids.lease(for: "corral.slice/after-crash").uid == leases[7].uid)
    }

    /// Issue 19's teardown race through the real teardown, 200 times: while a task's work directory is
    /// removed, a racer keeps renaming its subdirectory away and putting a symlink to a root-owned directory
    /// in its place. Every file of that directory must still be there at the end.
    @Test func swappingASubdirectoryForASymlinkDuringTeardownNeverDeletesOutsideTheTree() async throws {
        let harness = try Harness()
        let scratch = TemporaryDirectory("corral-teardown-race")
        let victim = scratch.path + "/victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        for index in 0..<50 { _ = FileManager.default.createFile(atPath: "\(victim)/f\(index)", contents: nil) }
        let swaps = Atomic<Int>(0)
        for _ in 0..<200 {
            let spec = harness.spec("mkdir /work/sub && for i in $(seq 1 50); do : > /work/sub/f$i; done")
            let sub = harness.sandbox.config.workRoot + "/" + spec.id + "/sub"
            let done = Atomic<Bool>(false)
            let racer = Thread {
                while !done.load(ordering: .relaxed) {
                    guard rename(sub, sub + ".moved") == 0 else { continue }
                    symlink(victim, sub)
                    swaps.add(1, ordering: .relaxed)
                }
            }
            racer.start()
            let (outcome, _) = try await harness.run(spec)
            done.store(true, ordering: .relaxed)
            #expect(outcome.exitCode != nil, "the task ran and exited (its writes may meet the racer)")
            while !racer.isFinished { try await Task.sleep(for: .milliseconds(1)) }
            try? FileManager.default.removeItem(atPath: harness.sandbox.config.workRoot + "/" + spec.id)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: victim).count
        #expect(
            left == 50,
            "files outside the tree were deleted: \(50 - left) of 50 (\(swaps.load(ordering: .relaxed)) swaps)")
        #expect(swaps.load(ordering: .relaxed) > 0, "the racer never got in")
    }
}
