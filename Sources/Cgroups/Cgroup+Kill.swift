import CSandbox
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

extension Cgroup {
    /// Kills every process in the cgroup: `cgroup.kill` where the kernel has it (5.14+), otherwise
    /// freeze, SIGKILL each process, thaw (v2 cgroup.freeze, or the v1 freezer).
    public func kill() async throws(CgroupError) {
        if let dir = unifiedPath, FileIO.exists(dir + "/cgroup.kill") {
            try CgroupFile.write("1", to: dir + "/cgroup.kill")
            return
        }
        if let dir = unifiedPath, FileIO.exists(dir + "/cgroup.freeze") {
            try CgroupFile.write("1", to: dir + "/cgroup.freeze")
            for pid in processes() { Glibc.kill(pid, SIGKILL) }
            try CgroupFile.write("0", to: dir + "/cgroup.freeze")
            return
        }
        guard let freezer = legacyPaths["freezer"] else {
            // Without a freezer a forking process could race us; kill in rounds until nothing is left.
            for _ in 0..<100 {
                let pids = processes()
                if pids.isEmpty { return }
                for pid in pids { Glibc.kill(pid, SIGKILL) }
            }
            throw CgroupError(.kill, path: relativePath, detail: "processes kept appearing")
        }
        try CgroupFile.write("FROZEN", to: freezer + "/freezer.state")
        var delay = Duration.microseconds(200)
        for _ in 0..<50 {
            let state =
                (try CgroupFile.read(freezer + "/freezer.state")).split(whereSeparator: \.isWhitespace).first ?? ""
            if state == "FROZEN" { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(50))
        }
        for pid in processes() { Glibc.kill(pid, SIGKILL) }
        try CgroupFile.write("THAWED", to: freezer + "/freezer.state")
    }

    /// Kills whatever is still in the cgroup and waits until it is empty; nothing to do when it is.
    public func killRemaining() async throws(CgroupError) {
        guard isPopulated else { return }
        try await kill()
        try await waitUntilEmpty()
    }

    /// Waits until no process is left: EPOLLPRI on cgroup.events (`populated 0`) in a v2 tree, the
    /// processes' pidfds on pure v1. Throws `.timeout` after `timeout`.
    public func waitUntilEmpty(timeout: Duration = .seconds(10)) async throws(CgroupError) {
        let deadline = ContinuousClock.now + timeout
        if let dir = unifiedPath {
            let path = dir + "/cgroup.events"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CgroupError(.open, path: path, errno: errno) }
            defer { close(fd) }
            while true {
                // Reading re-arms kernfs's change notification for this open file.
                guard let events = Self.pread(fd) else { throw CgroupError(.read, path: path, errno: errno) }
                if !CgroupFormat.populated(events) { return }
                guard ContinuousClock.now < deadline else {
                    throw CgroupError(.timeout, path: path, detail: "still populated")
                }
                await Self.wait(fd: fd, events: UInt32(CORRAL_EPOLLPRI), until: deadline)
            }
        }
        while true {
            let pids = processes()
            if pids.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw CgroupError(.timeout, path: relativePath, detail: "processes \(pids) still present")
            }
            for pid in pids {
                let pidfd = corral_pidfd_open(pid)
                guard pidfd >= 0 else { continue }  // already gone
                await Self.wait(fd: pidfd, events: UInt32(CORRAL_EPOLLIN), until: deadline)
                close(pidfd)
            }
        }
    }

    /// Waits for `fd`, giving up at the deadline.
    static func wait(fd: Int32, events: UInt32, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await DescriptorWaiter.shared.wait(for: fd, events: events) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    static func pread(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
