import Foundation
import TestSupport
import Testing

/// `corral` as a new user runs it: exit codes, stdout/stderr, JSON shapes.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct CLITests {
    func corral(_ arguments: String...) throws -> CommandResult {
        try #require(Preconditions.missing(.root, .cgroups).isEmpty, "\(Preconditions.missing(.root, .cgroups))")
        return try runCorral(arguments)
    }

    func json(_ text: String) throws -> [String: Any] {
        let line = try #require(text.split(separator: "\n").last, "no output")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }

    @Test func execPassesOutputThroughAndExitsWithTheTasksCode() throws {
        let result = try corral("exec", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 5")
        #expect(result.status == 5)
        #expect(result.stdout == "out\n")
        #expect(result.stderr.hasPrefix("err\n"))
        #expect(result.stderr.contains("exit 5 · cpu"), "usage summary on stderr: \(result.stderr)")
    }

    @Test func execJSONIsOneObjectWithEveryField() throws {
        let result = try corral("exec", "--json", "--memory", "32Mi", "--", "/bin/sh", "-c", "exit 3")
        #expect(result.status == 3)
        let object = try json(result.stdout)
        for key in [
            "exitCode", "signal", "oomKilled", "timedOut", "cpuUserUsec", "cpuSystemUsec", "memoryPeakBytes",
            "ioReadBytes", "ioWriteBytes", "durationMs", "cpuPressureUsec", "memoryPressureUsec", "ioPressureUsec",
        ] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["exitCode"] as? Int == 3)
        #expect(object["signal"] is NSNull)
    }

    @Test func execOfAMissingBinaryExits127NamingThePath() throws {
        let result = try corral("exec", "--", "/no/such/binary")
        #expect(result.status == 127)
        #expect(result.stderr.contains("cannot execute /no/such/binary: No such file or directory (errno 2)"))
    }

    @Test func badOptionsNameTheOptionAndRunNothing() throws {
        let result = try corral("exec", "--memory", "12XB", "--cpu=-1", "--", "/bin/echo", "the-task-ran")
        #expect(result.status == 125)
        #expect(!result.stdout.contains("the-task-ran"), "the task ran despite bad options: \(result.stdout)")
        #expect(result.stderr.contains("memory: \"12XB\" is not a size"))
        #expect(result.stderr.contains("cpu: \"-1\""))
    }

    @Test func execTimeoutIsReportedAndExitsLikeAKilledShell() throws {
        let result = try corral(
            "exec", "--json", "--timeout", "300ms", "--kill-grace", "200ms", "--", "/bin/sh", "-c",
            "trap '' TERM; sleep 30")
        let object = try json(result.stdout)
        #expect(object["timedOut"] as? Bool == true)
        #expect(result.status == 137)
    }

    @Test func rootIsRefusedAndUnconfinedSaysSo() throws {
        let root = try corral("exec", "--user", "root", "--", "/bin/echo", "the-task-ran")
        #expect(root.status == 125 && !root.stdout.contains("the-task-ran"))
        #expect(root.stderr.contains("user: tasks never run as root"), "\(root.stderr)")
        let unconfined = try corral(
            "exec", "--seccomp", "unconfined", "--", "/bin/grep", "Seccomp:", "/proc/self/status")
        #expect(unconfined.status == 0 && unconfined.stdout.contains("Seccomp:\t0"), "\(unconfined.stdout)")
        #expect(unconfined.stderr.contains("--seccomp unconfined: the task runs without a seccomp filter"))
        let confined = try corral("exec", "--", "/bin/grep", "Seccomp:", "/proc/self/status")
        #expect(confined.stdout.contains("Seccomp:\t2"), "\(confined.stdout)")
        let badRange = try corral("exec", "--task-uids", "5-2", "--", "/bin/true")
        #expect(badRange.status != 0 && badRange.stderr.contains("--task-uids"), "\(badRange.stderr)")
    }

    /// Secrets at rest (issue 20, item 6): the data directory is 0700 and the configuration with its
    /// tokens, the state with every job's environment and the history are 0600 from their creation.
    @Test func aSchedulersDataDirectoryAndFilesAreItsOwn() async throws {
        try #require(Preconditions.missing(.root).isEmpty, "\(Preconditions.missing(.root))")
        let scratch = TemporaryDirectory("corral-modes")
        let data = scratch.path + "/data"
        // A data directory that existed before, open to everyone: tightened, not trusted as it was.
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        chmod(data, 0o755)
        let scheduler = Process()
        scheduler.executableURL = URL(fileURLWithPath: corralBinary)
        scheduler.arguments = ["scheduler", "--data-dir", data, "--listen", "127.0.0.1:0"]
        scheduler.standardOutput = FileHandle.nullDevice
        scheduler.standardError = FileHandle.nullDevice
        try scheduler.run()
        defer {
            kill(scheduler.processIdentifier, SIGTERM)
            scheduler.waitUntilExit()
        }
        let files = ["config.json", "state.sqlite", "history.sqlite"]
        for _ in 0..<200 where !files.allSatisfy({ FileManager.default.fileExists(atPath: data + "/" + $0) }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        func mode(_ path: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
        }
        #expect(mode(data) == 0o700, "data directory: \(String(mode(data) ?? 0, radix: 8))")
        for file in files {
            #expect(mode(data + "/" + file) == 0o600, "\(file): \(String(mode(data + "/" + file) ?? 0, radix: 8))")
        }
    }

    @Test func hostDescribesCgroupsAndKernelFeatures() throws {
        let result = try corral("host", "--json")
        #expect(result.status == 0)
        let object = try json(result.stdout)
        #expect(["unified", "hybrid", "legacy"].contains(object["cgroupMode"] as? String ?? ""))
        #expect(object["pidfd"] as? Bool == true)
        #expect(object["deviceAllowlist"] as? Bool == true, "the allowlist is enforced here")
        let text = try corral("host")
        #expect(text.stdout.contains("cgroup mode"))
    }

    @Test func benchLaunchJSONHasEveryVariantField() throws {
        let result = try corral("bench", "launch", "--iterations", "5", "--warmup", "1", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try json(result.stdout)
        #expect(object["iterations"] as? Int == 5)
        let variants = try #require(object["variants"] as? [[String: Any]])
        let names = variants.compactMap { $0["name"] as? String }
        #expect(names.starts(with: ["plain", "corral"]), "\(names)")
        for step in ["corral-no-uid-lease", "corral-no-seccomp", "corral-no-own-root", "corral-no-devices"] {
            #expect(names.contains(step), "the cost of each hardening step is measured: \(names)")
        }
        for variant in variants {
            for key in ["name", "minMs", "p50Ms", "p99Ms", "ratioMin", "ratioP50"] {
                #expect(variant[key] != nil, "\(key) missing")
            }
        }
        #expect((variants.first?["ratioP50"] as? Double) == 1.0, "plain is the unit")
    }

    /// Tokens never come from argv; a token file others could read is refused as ssh refuses such a key.
    @Test func aTokenFileOthersCanReadIsRefusedAndNoTokenFlagExists() throws {
        let scratch = TemporaryDirectory("corral-token-file")
        let file = scratch.path + "/token"
        scratch.write("token", "some-token-0123456789\n")
        chmod(file, 0o644)
        let refused = try corral("nodes", "--scheduler", "http://127.0.0.1:9", "--token-file", file)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("chmod 600"), "\(refused.stderr)")
        chmod(file, 0o600)
        let read = try corral("nodes", "--scheduler", "http://127.0.0.1:9", "--token-file", file)
        #expect(read.status != 0 && !read.stderr.contains("chmod"), "read, then the connection fails: \(read.stderr)")
        let flag = try corral("nodes", "--token", "some-token-0123456789")
        #expect(flag.status != 0 && flag.stderr.contains("--token"), "no --token option: \(flag.stderr)")
    }
}
