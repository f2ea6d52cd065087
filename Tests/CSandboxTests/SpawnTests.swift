import CSandbox
import Foundation
import TestSupport
import Testing

/// The C shim on its own: spawn, exec errors through the error pipe, holding, fd hygiene, status lines.
@Suite(.serialized, .enabled(if: Preconditions.met(.root)), .timeLimit(.minutes(1)))
struct SpawnTests {
    /// Runs argv through corral_spawn (or a spawner's socket) and returns (exec result, setup error, status
    /// line, stdout); `parent` receives PID 1's parent pid.
    func run(
        _ argv: [String], isolate: Bool = false, search: String? = nil, workSource: String? = nil, hold: Bool = false,
        go: Bool = true, via spawner: Int32? = nil, parent: UnsafeMutablePointer<pid_t>? = nil
    ) throws -> (exec: Int32, error: corral_setup_error, status: String, output: String) {
        try #require(Preconditions.missing(.root).isEmpty, "\(Preconditions.missing(.root))")
        var strings: [UnsafeMutablePointer<CChar>?] = []
        defer { strings.forEach { free($0) } }
        func c(_ s: String) -> UnsafePointer<CChar> { let p = strdup(s)!; strings.append(p); return UnsafePointer(p) }
        var argvC: [UnsafePointer<CChar>?] = argv.map(c) + [nil]
        var envC: [UnsafePointer<CChar>?] = [c("PATH=/usr/bin:/bin"), nil]
        var statusPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        #expect(corral_pipe_cloexec(&statusPipe) == 0 && corral_pipe_cloexec(&outPipe) == 0)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull); close(statusPipe[0]); close(outPipe[0]) }
        var cfg = corral_spawn_config()
        var handle = corral_spawn_handle()
        var setup = corral_setup_error()
        let rc: Int32 = argvC.withUnsafeMutableBufferPointer { argvBuffer in
            envC.withUnsafeMutableBufferPointer { envBuffer in
                cfg.argv = UnsafePointer(argvBuffer.baseAddress)
                cfg.envp = UnsafePointer(envBuffer.baseAddress)
                cfg.search_path = search.map(c)
                cfg.cgroup_fd = -1
                cfg.cpu_quota_fd = -1
                cfg.hold = hold ? 1 : 0
                cfg.isolate = isolate ? 1 : 0
                cfg.work_source = workSource.map(c)
                cfg.work_target = c("/work")
                cfg.hostname = c("spawn-test")
                cfg.uid = 65534
                cfg.gid = 65534
                cfg.stdin_fd = devNull
                cfg.stdout_fd = outPipe[1]
                cfg.stderr_fd = outPipe[1]
                cfg.status_fd = statusPipe[1]
                return spawner.map { corral_spawn_via($0, &cfg, &handle) } ?? corral_spawn(&cfg, &handle)
            }
        }
        close(statusPipe[1])
        close(outPipe[1])
        try #require(rc == 0, "corral_spawn failed: errno \(-rc)")
        if let parent, let status = try? String(contentsOfFile: "/proc/\(handle.pid)/status", encoding: .utf8) {
            parent.pointee =
                status.split(separator: "\n").first { $0.hasPrefix("PPid:") }.flatMap {
                    pid_t($0.split(separator: "\t").last ?? "")
                } ?? -1
        }
        if hold { corral_release(&handle, go ? 1 : 0) }
        let exec = corral_await_exec(&handle, &setup)
        var code: Int32 = 0
        var value: Int32 = 0
        while corral_pidfd_reap(handle.pidfd, &code, &value) == 0 { usleep(1000) }
        close(handle.pidfd)
        let status = String(
            decoding: FileHandle(fileDescriptor: statusPipe[0], closeOnDealloc: false).readDataToEndOfFile(),
            as: UTF8.self)
        let output = String(
            decoding: FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: false).readDataToEndOfFile(), as: UTF8.self
        )
        return (exec, setup, status, output)
    }

    func path(of error: corral_setup_error) -> String {
        var copy = error
        return withUnsafeBytes(of: &copy.path) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
    }

    @Test func theTaskRunsAndPid1ReportsItsExitStatus() throws {
        let result = try run(["/bin/sh", "-c", "echo out; exit 7"])
        #expect(result.exec == 0)
        #expect(result.output == "out\n")
        #expect(result.status == "exit 7\n")
    }

    @Test func aSignalledTaskIsReportedAsSuch() throws {
        let result = try run(["/bin/sh", "-c", "kill -TERM $$"])
        #expect(result.status == "signal 15\n")
    }

    @Test func aMissingBinaryComesBackAsStepErrnoAndPath() throws {
        let result = try run(["/nonexistent/tool"])
        #expect(result.exec == 1)
        #expect(result.error.step == Int32(CORRAL_STEP_EXEC.rawValue))
        #expect(result.error.err == ENOENT)
        #expect(path(of: result.error) == "/nonexistent/tool")
        #expect(String(cString: corral_step_name(result.error.step)) == "exec")
    }

    @Test func namesAreSearchedInThePathGiven() throws {
        #expect(try run(["true"], search: "/nonexistent:/usr/bin:/bin").exec == 0)
        let missing = try run(["true"], search: "/nonexistent")
        #expect(missing.exec == 1 && missing.error.err == ENOENT && path(of: missing.error) == "true")
    }

    @Test func aFailedSetupStepIsNamed() throws {
        let result = try run(["/bin/true"], isolate: true, workSource: "/does/not/exist")
        #expect(result.exec == 1)
        #expect(result.error.step == Int32(CORRAL_STEP_BIND_WORKDIR.rawValue))
        #expect(result.error.err == ENOENT)
        #expect(path(of: result.error) == "/does/not/exist")
    }

    @Test func aHeldPid1NeverRunsTheTaskWhenTheParentGivesUp() throws {
        let marker = NSTemporaryDirectory() + "corral-held-\(getpid())"
        let result = try run(["/bin/sh", "-c", "touch \(marker)"], hold: true, go: false)
        #expect(result.exec == 0, "EOF on the error pipe: PID 1 exited without an error report")
        #expect(result.status == "", "no task ran, so no status")
        #expect(!FileManager.default.fileExists(atPath: marker))
        let released = try run(["/bin/sh", "-c", "exit 3"], hold: true, go: true)
        #expect(released.status == "exit 3\n")
    }

    @Test func theTaskGetsOnlyItsStdio() throws {
        let leaked = open("/dev/null", O_RDONLY)  // no O_CLOEXEC: a careless caller's descriptor
        defer { close(leaked) }
        let result = try run(["/bin/sh", "-c", "ls /proc/self/fd"])
        let fds = result.output.split(separator: "\n").compactMap { Int($0) }
        #expect(fds.allSatisfy { $0 <= 3 }, "descriptors seen by the task: \(fds) (3 is ls's own directory)")
    }

    @Test func isolationGivesPid2AHostnameAndNoCapabilities() throws {
        let result = try run(
            ["/bin/sh", "-c", "echo $$ $(hostname) $(id -u); grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"],
            isolate: true)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "2 spawn-test 65534")
        #expect(lines.contains { $0.hasPrefix("CapEff:") && $0.hasSuffix("0000000000000000") })
        #expect(lines.contains { $0.hasPrefix("CapBnd:") && $0.hasSuffix("0000000000000000") })
        #expect(lines.contains { $0.hasPrefix("NoNewPrivs:") && $0.hasSuffix("1") })
    }

    /// Runs `body` with a spawner of this test binary's (its socket and pid), stopped afterwards.
    func withSpawner(_ body: (_ socket: Int32, _ pid: pid_t) throws -> Void) throws {
        var spawnerPID: pid_t = 0
        let socket = corral_spawner_start("/proc/self/exe", &spawnerPID)
        try #require(socket >= 0, "spawner did not start: errno \(-socket)")
        defer {
            close(socket)  // EOF: the spawner leaves
            var status: Int32 = 0
            waitpid(spawnerPID, &status, 0)
        }
        try body(socket, spawnerPID)
    }

    @Test func theSpawnerClonesPid1AsOurChildAndKeepsServing() throws {
        try withSpawner { socket, _ in
            var parent: pid_t = 0
            for code in 1...3 {
                let result = try run(
                    ["/bin/sh", "-c", "echo via spawner; exit \(code)"], isolate: true, via: socket, parent: &parent)
                #expect(result.exec == 0 && result.output == "via spawner\n")
                #expect(result.status == "exit \(code)\n", "reaped through the pidfd by us, the parent")
                #expect(parent == getpid(), "CLONE_PARENT makes PID 1 our child, not the spawner's (PPid \(parent))")
            }
            let failed = try run(["/no/such/binary"], via: socket)
            #expect(failed.exec == 1 && failed.error.err == ENOENT, "exec errors come back through the spawner too")
        }
    }

    @Test func theSpawnerKeepsOnlyLibcTheLoaderAndItsOwnBinaryMapped() throws {
        try withSpawner { socket, spawnerPID in
            // A served request: the spawner has passed its start-up (and so its shedding).
            #expect(try run(["/bin/true"], isolate: true, via: socket).status == "exit 0\n")
            // /proc files report size 0: read them to the end through a handle.
            func read(_ path: String) throws -> String {
                let handle = try #require(FileHandle(forReadingAtPath: path), "cannot open \(path)")
                return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
            }
            let ours = try read("/proc/self/maps")
            let maps = try read("/proc/\(spawnerPID)/maps")
            func libraries(_ text: String) -> Set<String> {
                Set(
                    text.split(separator: "\n").compactMap { line in
                        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).first.map(String.init)
                    }.filter { $0.hasPrefix("/") && $0.contains(".so") })
            }
            #expect(
                libraries(ours).contains { $0.hasSuffix("/libswiftCore.so") }, "the test process maps the Swift runtime"
            )
            let kept = libraries(maps).map { ($0 as NSString).lastPathComponent }
            #expect(
                kept.allSatisfy { $0.hasPrefix("libc.so") || $0.hasPrefix("ld-linux") }, "spawner still maps \(kept)")
            #expect(!kept.isEmpty, "libc stays mapped")
        }
    }

    @Test func theSpawnerEmptiesItsBoundingSetOnceAndItsTasksInheritIt() throws {
        try withSpawner { socket, spawnerPID in
            let script = "grep -E '^(CapEff|CapBnd)' /proc/self/status"
            let task = try run(["/bin/sh", "-c", script], isolate: true, via: socket)
            #expect(task.exec == 0, "the task ran")
            let status = try String(contentsOfFile: "/proc/\(spawnerPID)/status", encoding: .utf8)
            func field(_ name: String, _ text: String) -> String? {
                text.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                    $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
                }
            }
            #expect(field("CapBnd", status) == "0000000000000000", "the spawner's bounding set is empty")
            #expect(field("CapEff", status) != "0000000000000000", "and it keeps its own capabilities to clone with")
            #expect(field("CapBnd", task.output) == "0000000000000000", "\(task.output)")
            #expect(field("CapEff", task.output) == "0000000000000000", "\(task.output)")
        }
    }

    @Test func aDeadSpawnerIsReportedAsABrokenPipe() throws {
        var spawnerPID: pid_t = 0
        let socket = corral_spawner_start("/proc/self/exe", &spawnerPID)
        try #require(socket >= 0)
        kill(spawnerPID, SIGKILL)
        var status: Int32 = 0
        waitpid(spawnerPID, &status, 0)
        defer { close(socket) }
        var cfg = corral_spawn_config()
        var handle = corral_spawn_handle()
        let argv: [UnsafePointer<CChar>?] = [UnsafePointer(strdup("/bin/true")), nil]
        defer { free(UnsafeMutablePointer(mutating: argv[0])) }
        let rc = argv.withUnsafeBufferPointer { buffer in
            cfg.argv = buffer.baseAddress
            (cfg.stdin_fd, cfg.stdout_fd, cfg.stderr_fd, cfg.status_fd, cfg.cgroup_fd) = (-1, -1, -1, -1, -1)
            cfg.cpu_quota_fd = -1
            return corral_spawn_via(socket, &cfg, &handle)
        }
        #expect(rc == -EPIPE || rc == -ECONNRESET, "rc \(rc)")
    }
}
