import Cgroups
import Foundation
import TestSupport
import Testing

/// `CgroupUsageReader` against a directory laid out like a cgroup tree, its files rewritten in place
/// (the reader keeps its descriptors open, as it does on cgroupfs).
@Suite(.timeLimit(.minutes(1))) struct UsageReaderTests {
    /// Replaces a file's content without replacing the file.
    static func overwrite(_ path: String, _ text: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path), "cannot open \(path)")
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test("an idle cgroup is sampled by its CPU counter alone, with a full read at least every fullReadEvery samples")
    func idleCgroupsCostOneRead() throws {
        let dir = TemporaryDirectory()
        dir.write("t/cpu.stat", "usage_usec 100\nuser_usec 60\nsystem_usec 40\n")
        dir.write("t/memory.current", "1000\n")
        dir.write("t/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n")
        dir.write("t/pids.current", "2\n")
        let host = CgroupHost(mode: .unified, unifiedMount: dir.path, legacyMounts: [:])
        let cgroup = Cgroup(host: host, relativePath: "t", unifiedPath: dir.path + "/t", legacyPaths: [:], owned: false)
        let reader = CgroupUsageReader(cgroup)
        let first = reader.sample()
        #expect(first.cpuUsageUsec == 100 && first.memoryCurrentBytes == 1000 && first.pidsCurrent == 2)

        // The CPU counter stands still: memory is not re-read (the kernel's reclaim can move it a little)...
        try Self.overwrite(dir.path + "/t/memory.current", "900\n")
        #expect(reader.sample().memoryCurrentBytes == 1000)
        // ...until the full read comes round.
        var samples = 2
        while samples <= CgroupUsageReader.fullReadEvery, reader.sample().memoryCurrentBytes == 1000 { samples += 1 }
        #expect(samples == CgroupUsageReader.fullReadEvery, "full read after \(samples) samples")

        // The task ran: everything is read at once.
        try Self.overwrite(dir.path + "/t/cpu.stat", "usage_usec 180\nuser_usec 100\nsystem_usec 80\n")
        try Self.overwrite(dir.path + "/t/memory.current", "5000\n")
        try Self.overwrite(dir.path + "/t/pids.current", "3\n")
        let ran = reader.sample()
        #expect(ran.cpuUsageUsec == 180 && ran.cpuUserUsec == 100 && ran.cpuSystemUsec == 80)
        #expect(ran.memoryCurrentBytes == 5000 && ran.pidsCurrent == 3 && ran.ioWriteBytes == 20)

        reader.close()
        #expect(reader.sample().cpuUsageUsec == 0, "closed: zeros")
    }
}
