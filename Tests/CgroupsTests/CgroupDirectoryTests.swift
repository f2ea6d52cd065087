import Cgroups
import TestSupport
import Testing

/// The Cgroup type against a temporary directory laid out like a cgroup tree: limits written, stats read,
/// only created directories removed.
@Suite(.timeLimit(.minutes(1))) struct CgroupDirectoryTests {
    @Test func unifiedStatsAreReadFromTheV2Files() {
        let dir = TemporaryDirectory()
        dir.write(
            "t/cpu.stat",
            "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 10\nnr_throttled 4\nthrottled_usec 900\n")
        dir.write("t/memory.current", "1048576\n")
        dir.write("t/memory.peak", "2097152\n")
        dir.write("t/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n")
        dir.write("t/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n")
        dir.write("t/pids.current", "3\n")
        dir.write(
            "t/cpu.pressure",
            "some avg10=2.00 avg60=0.00 avg300=0.00 total=55\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=22\n")
        let host = CgroupHost(mode: .unified, unifiedMount: dir.path, legacyMounts: [:])
        let cgroup = Cgroup(host: host, relativePath: "t", unifiedPath: dir.path + "/t", legacyPaths: [:], owned: false)
        let stats = cgroup.stats()
        #expect(stats.cpuUserUsec == 2000 && stats.cpuSystemUsec == 1000 && stats.cpuThrottledPeriods == 4)
        #expect(stats.memoryCurrentBytes == 1 << 20 && stats.memoryPeakBytes == 2 << 20)
        #expect(stats.oomKills == 1)
        #expect(stats.ioReadBytes == 4096 && stats.ioWriteBytes == 8192)
        #expect(stats.pidsCurrent == 3)
        #expect(stats.cpuPressure?.some?.avg10 == 2.0 && stats.cpuPressure?.full?.totalUsec == 22)
        #expect(stats.memoryPressure == nil, "a missing PSI file leaves the field empty")
    }

    @Test func hybridTakesCPUFromV2AndTheRestFromV1() {
        let dir = TemporaryDirectory()
        dir.write("unified/t/cpu.stat", "usage_usec 10\nuser_usec 7\nsystem_usec 3\n")
        dir.write("memory/t/memory.usage_in_bytes", "100\n")
        dir.write("memory/t/memory.max_usage_in_bytes", "200\n")
        dir.write("memory/t/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        dir.write("blkio/t/blkio.throttle.io_service_bytes_recursive", "8:0 Read 11\n8:0 Write 22\nTotal 33\n")
        dir.write("pids/t/pids.current", "5\n")
        dir.write("cpu/t/cpu.stat", "nr_periods 9\nnr_throttled 8\nthrottled_time 7000\n")
        let host = CgroupHost(
            mode: .hybrid, unifiedMount: dir.path + "/unified",
            legacyMounts: [
                "memory": dir.path + "/memory", "blkio": dir.path + "/blkio", "pids": dir.path + "/pids",
                "cpu": dir.path + "/cpu",
            ])
        let cgroup = Cgroup(
            host: host, relativePath: "t", unifiedPath: dir.path + "/unified/t",
            legacyPaths: [
                "memory": dir.path + "/memory/t", "blkio": dir.path + "/blkio/t", "pids": dir.path + "/pids/t",
                "cpu": dir.path + "/cpu/t",
            ], owned: false)
        let stats = cgroup.stats()
        #expect(stats.cpuUserUsec == 7 && stats.cpuSystemUsec == 3)
        #expect(stats.cpuThrottledPeriods == 8 && stats.cpuThrottledUsec == 7)
        #expect(stats.memoryCurrentBytes == 100 && stats.memoryPeakBytes == 200 && stats.oomKills == 2)
        #expect(stats.ioReadBytes == 11 && stats.ioWriteBytes == 22 && stats.pidsCurrent == 5)
        let summary = cgroup.stats(.summary)
        #expect(summary.memoryPeakBytes == 200 && summary.pidsCurrent == 0, "a summary skips pids and current values")
        #expect(summary.cpuPressure == nil, "no PSI file in this tree")
    }

    @Test func limitsAreWrittenToTheRightTree() throws {
        let dir = TemporaryDirectory()
        for file in ["cpu.max", "memory.max", "memory.swap.max", "pids.max"] { dir.write("t/" + file, "") }
        let host = CgroupHost(mode: .unified, unifiedMount: dir.path, legacyMounts: [:])
        let cgroup = Cgroup(host: host, relativePath: "t", unifiedPath: dir.path + "/t", legacyPaths: [:], owned: false)
        try cgroup.apply(CgroupLimits(cpuCores: 2, memoryMax: 1 << 20, pidsMax: 9))
        #expect(dir.read("t/cpu.max") == "200000 100000")
        #expect(dir.read("t/memory.max") == "1048576")
        #expect(dir.read("t/pids.max") == "9")
    }

    @Test func aWriteErrorNamesTheFileAndErrno() {
        let dir = TemporaryDirectory()
        let host = CgroupHost(mode: .unified, unifiedMount: dir.path, legacyMounts: [:])
        let cgroup = Cgroup(
            host: host, relativePath: "t", unifiedPath: dir.path + "/missing", legacyPaths: [:], owned: false)
        do {
            try cgroup.apply(CgroupLimits(pidsMax: 9))
            Issue.record("writing into a missing directory succeeded")
        } catch {
            #expect(error.path == dir.path + "/missing/pids.max")
            #expect(error.errno == 2)
            #expect(error.description.contains("No such file or directory (errno 2)"))
        }
    }

    @Test func createAndRemoveTouchOnlyWhatCorralMade() async throws {
        let dir = TemporaryDirectory()
        dir.write("parent/keep/marker", "")
        let host = CgroupHost(
            mode: .legacy, unifiedMount: nil,
            legacyMounts: ["memory": dir.path + "/memory", "pids": dir.path + "/pids"])
        let cgroup = try Cgroup.create(
            name: "t1", parent: "corral.slice", host: host, legacyControllers: ["memory", "pids"])
        #expect(cgroup.legacyPaths["memory"] == dir.path + "/memory/corral.slice/t1")
        #expect(Requirement.file(dir.path + "/pids/corral.slice/t1", hint: "").isMet)
        try await cgroup.remove()
        #expect(!Requirement.file(dir.path + "/memory/corral.slice/t1", hint: "").isMet)
        #expect(Requirement.file(dir.path + "/memory/corral.slice", hint: "").isMet, "the shared parent stays")
        #expect(throws: CgroupError.self) {
            try Cgroup.create(name: "../escape", parent: "corral.slice", host: host, legacyControllers: [])
        }
    }

    @Test func anExistingCgroupIsNotTakenOver() throws {
        let dir = TemporaryDirectory()
        dir.write("memory/corral.slice/busy/tasks", "")
        let host = CgroupHost(mode: .legacy, unifiedMount: nil, legacyMounts: ["memory": dir.path + "/memory"])
        #expect(throws: CgroupError.self) {
            try Cgroup.create(name: "busy", parent: "corral.slice", host: host, legacyControllers: ["memory"])
        }
        #expect(Requirement.file(dir.path + "/memory/corral.slice/busy/tasks", hint: "").isMet)
    }
}
