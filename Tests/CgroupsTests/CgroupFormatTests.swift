import Cgroups
import Foundation
import Testing

@Suite struct MountinfoTests {
    static let hybrid = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        38 31 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        39 31 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
        40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        41 23 0:38 / /mnt/with\\040space rw - cgroup cgroup rw,blkio
        """

    @Test func findsTheUnifiedMountAndV1Controllers() {
        let mounts = CgroupHost.parseMountinfo(Self.hybrid)
        #expect(mounts.unified == "/sys/fs/cgroup/unified")
        #expect(mounts.legacy["memory"] == "/sys/fs/cgroup/memory")
        #expect(mounts.legacy["pids"] == "/sys/fs/cgroup/pids")
        #expect(mounts.legacy["cpuset"] == nil, "Corral does not use cpuset")
        #expect(mounts.legacy["blkio"] == "/mnt/with space", "mountinfo escapes are decoded")
    }

    @Test func coMountedControllersShareOneDirectory() {
        let mounts = CgroupHost.parseMountinfo(Self.hybrid)
        #expect(mounts.legacy["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(mounts.legacy["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        let host = CgroupHost(mode: .legacy, unifiedMount: nil, legacyMounts: mounts.legacy)
        let dirs = host.legacyDirectories(for: ["cpu", "cpuacct", "memory"])
        #expect(dirs.map(\.mount) == ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory"])
    }

    /// Detection against the kernel's own mount table read here by hand, not against itself.
    @Test func thisHostIsDetectedAsItsMountTableSays() throws {
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        let v2 = mounts.filter { $0.count > 3 && $0[2] == "cgroup2" }.map { $0[1] }
        var v1: [String: String] = [:]
        for fields in mounts where fields.count > 3 && fields[2] == "cgroup" {
            for option in fields[3].split(separator: ",")
            where !["rw", "ro", "nosuid", "nodev", "noexec", "relatime"]
                .contains(String(option)) && !option.hasPrefix("name=")
            {
                v1[String(option)] = fields[1]
            }
        }
        let host = try CgroupHost.detect()
        #expect(host.unifiedMount == v2.first, "cgroup2 mounts in /proc/self/mounts: \(v2)")
        for (controller, mount) in v1 where CgroupHost.legacyControllers.contains(controller) {
            #expect(host.legacyMounts[controller] == mount, "\(controller) is mounted at \(mount)")
        }
        #expect(Set(host.legacyMounts.keys).isSubset(of: Set(v1.keys)), "\(host.legacyMounts) against \(v1)")
        let expected: CgroupMode =
            v1.isEmpty ? .unified : (v2.isEmpty ? .legacy : .hybrid)
        #expect(host.mode == expected, "mounts: cgroup2 \(v2), v1 \(v1)")
    }
}

@Suite struct CgroupFileFormatTests {
    @Test func flatKeyedFiles() {
        let cpu = CgroupFormat.keyValues("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_throttled 7\n")
        #expect(cpu["usage_usec"] == 1500 && cpu["user_usec"] == 1000 && cpu["nr_throttled"] == 7)
        #expect(CgroupFormat.keyValues("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")["oom_kill"] == 3)
    }

    @Test func cpuTimesComeFromCpuStat() {
        let text = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 7\n"
        let times = CgroupFormat.cpuTimes(text)
        #expect(times.usage == 1500 && times.user == 1000 && times.system == 500)
        #expect(CgroupFormat.cpuTimes("nr_periods 3\n") == (0, 0, 0))
    }

    @Test func flatKeyedLinesThatAreNotKeyAndNumberAreSkipped() {
        let parsed = CgroupFormat.keyValues(
            "a 1\nb\nc x\nd 2 3\ne \n 4\nf 18446744073709551616\ng 18446744073709551615\nlast 9")
        #expect(parsed == ["a": 1, "g": UInt64.max, "last": 9])
        #expect(CgroupFormat.keyValues("").isEmpty)
    }

    @Test func singleValuesAndMax() {
        #expect(CgroupFormat.number("4096\n") == 4096)
        #expect(CgroupFormat.number("max\n") == nil)
    }

    @Test func ioStatSumsDevices() {
        let text =
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n7:0 rbytes=5 wbytes=6 rios=3 wios=4 dbytes=0 dios=0\n"
        let io = CgroupFormat.ioStat(text)
        #expect(io.readBytes == 105 && io.writeBytes == 206 && io.readOps == 4 && io.writeOps == 6)
    }

    @Test func blkioSumsReadAndWriteAndIgnoresTotals() {
        let text = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 0\n8:0 Total 12288\nTotal 12288\n"
        let io = CgroupFormat.blkio(text)
        #expect(io.read == 4096 && io.write == 8192)
    }

    @Test func pressureLines() {
        let psi = PressureStat.parse(
            "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=678\n")
        #expect(psi.some?.avg10 == 1.5 && psi.some?.totalUsec == 12345)
        #expect(psi.full?.avg10 == 0.5 && psi.full?.totalUsec == 678)
        #expect(PressureStat.parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=9\n").full == nil)
    }

    @Test func populatedFlag() {
        #expect(CgroupFormat.populated("populated 1\nfrozen 0\n"))
        #expect(!CgroupFormat.populated("populated 0\nfrozen 0\n"))
    }
}

@Suite struct LimitsMappingTests {
    @Test func v2FilesForANewCgroupHoldOnlyTheSetLimits() {
        let limits = CgroupLimits(cpuCores: 0.5, memoryMax: 64 << 20, pidsMax: 64)
        let files = Dictionary(uniqueKeysWithValues: limits.unifiedFiles().map { ($0.file, $0.value) })
        #expect(files["cpu.max"] == "50000 100000")
        #expect(files["memory.max"] == "67108864")
        #expect(files["memory.swap.max"] == "0", "a memory limit without swap allowance means no swap")
        #expect(files["pids.max"] == "64")
        #expect(files["cpu.weight"] == nil && files["io.max"] == nil)
    }

    @Test func resettingWritesMaxForUnlimited() {
        let files = Dictionary(
            uniqueKeysWithValues: CgroupLimits(pidsMax: 10).unifiedFiles(resetUnset: true).map { ($0.file, $0.value) })
        #expect(files["cpu.max"] == "max 100000")
        #expect(files["memory.max"] == "max")
        #expect(files["memory.swap.max"] == "max")
        #expect(files["cpu.weight"] == "100")
        #expect(files["pids.max"] == "10")
    }

    @Test func ioMaxNamesTheDeviceAndEveryKey() {
        let limits = CgroupLimits(io: [
            IOLimit(device: DeviceNumber(major: 8, minor: 0), writeBps: 1_048_576, readIops: 100)
        ])
        #expect(limits.unifiedFiles().map(\.value) == ["8:0 rbps=max wbps=1048576 riops=100 wiops=max"])
    }

    @Test func v1AliasesOfTheSameLimits() {
        let limits = CgroupLimits(
            cpuCores: 1.5, cpuWeight: 200, memoryMax: 1 << 30, swapMax: 1 << 20, pidsMax: 32,
            io: [IOLimit(device: DeviceNumber(major: 7, minor: 0), readBps: 500)])
        let files = limits.legacyFiles(memsw: true).map { "\($0.controller)/\($0.file)=\($0.value)" }
        #expect(
            files == [
                "cpu/cpu.cfs_period_us=100000", "cpu/cpu.cfs_quota_us=150000", "cpu/cpu.shares=2048",
                "memory/memory.limit_in_bytes=1073741824", "memory/memory.memsw.limit_in_bytes=1074790400",
                "pids/pids.max=32", "blkio/blkio.throttle.read_bps_device=7:0 500",
            ])
        #expect(limits.legacyControllersNeeded == ["cpu", "memory", "pids", "blkio"])
    }

    @Test func v1UnlimitedIsMinusOneOrMax() {
        let files = CgroupLimits().legacyFiles(memsw: true, resetUnset: true).map { "\($0.file)=\($0.value)" }
        #expect(
            files == [
                "cpu.cfs_quota_us=-1", "cpu.shares=1024", "memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1",
                "pids.max=max",
            ])
    }

    @Test func theDeferredCPUQuotaIsTheEntryTheLimitFilesWouldWrite() {
        let limits = CgroupLimits(cpuCores: 0.25)
        #expect(limits.cpuQuotaFile(unified: true)! == ("cpu.max", "25000 100000", "max 100000"))
        #expect(limits.cpuQuotaFile(unified: false)! == ("cpu.cfs_quota_us", "25000", "-1"))
        #expect(CgroupLimits(memoryMax: 1 << 20).cpuQuotaFile(unified: true) == nil)
    }

    @Test func tinyCPUQuotaIsRaisedToTheKernelMinimum() {
        #expect(CgroupLimits(cpuCores: 0.001).cpuQuotaUsec == 1000)
    }

    @Test func devicesResolveByNumberAndRejectNonBlockFiles() throws {
        #expect(try DeviceNumber.resolve("8:0").description.hasPrefix("8:"))
        #expect(throws: CgroupError.self) { try DeviceNumber.resolve("/dev/null") }
        #expect(throws: CgroupError.self) { try DeviceNumber.resolve("/no/such/device") }
    }
}
