import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A block device as the cgroup files name it: `MAJ:MIN`.
public struct DeviceNumber: Hashable, Sendable, Codable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    public var description: String { "\(major):\(minor)" }

    /// `8:0`, or a block device path (`/dev/vda`). A partition resolves to its whole disk, because the io
    /// controller throttles disks, not partitions.
    public static func resolve(_ text: String) throws(CgroupError) -> DeviceNumber {
        let parts = text.split(separator: ":")
        if parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) {
            return wholeDisk(DeviceNumber(major: major, minor: minor))
        }
        var st = stat()
        guard stat(text, &st) == 0 else {
            throw CgroupError(.invalid, path: text, errno: errno, detail: "not a device")
        }
        guard (st.st_mode & S_IFMT) == S_IFBLK else {
            throw CgroupError(.invalid, path: text, detail: "not a block device (use a path under /dev or MAJ:MIN)")
        }
        // glibc's dev_t encoding (gnu_dev_major/minor)
        let dev = UInt64(st.st_rdev)
        let major = UInt32(((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff)))
        let minor = UInt32((dev & 0xff) | ((dev >> 12) & ~UInt64(0xff)))
        return wholeDisk(DeviceNumber(major: major, minor: minor))
    }

    /// The disk a partition belongs to, read from /sys/dev/block/MAJ:MIN/../dev; itself for a disk.
    static func wholeDisk(_ device: DeviceNumber) -> DeviceNumber {
        let base = "/sys/dev/block/\(device)"
        guard FileIO.exists(base + "/partition"), let parent = FileIO.readIfPresent(base + "/../dev") else {
            return device
        }
        let parts = parent.split(whereSeparator: { $0 == ":" || $0 == "\n" })
        guard parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) else { return device }
        return DeviceNumber(major: major, minor: minor)
    }
}

/// I/O limits for one device; nil means unlimited.
public struct IOLimit: Sendable, Equatable, Codable {
    public var device: DeviceNumber
    public var readBps: UInt64?
    public var writeBps: UInt64?
    public var readIops: UInt64?
    public var writeIops: UInt64?

    public init(
        device: DeviceNumber, readBps: UInt64? = nil, writeBps: UInt64? = nil, readIops: UInt64? = nil,
        writeIops: UInt64? = nil
    ) {
        self.device = device
        self.readBps = readBps
        self.writeBps = writeBps
        self.readIops = readIops
        self.writeIops = writeIops
    }
}

/// The resource limits of one cgroup. nil means unlimited ("max"); only set limits are written.
public struct CgroupLimits: Sendable, Equatable, Codable {
    /// CFS period Corral uses for `cpu.max` / `cpu.cfs_period_us` (the kernel's default).
    public static let cpuPeriodUsec: UInt64 = 100_000

    public var cpuCores: Double?
    /// v2 `cpu.weight`, 1...10000 (100 is the default); v1 `cpu.shares` = weight * 1024 / 100.
    public var cpuWeight: UInt64?
    public var memoryMax: UInt64?
    /// Swap allowed beyond memoryMax. When memoryMax is set and this is nil, no swap (0).
    public var swapMax: UInt64?
    public var pidsMax: UInt64?
    public var io: [IOLimit]

    public init(
        cpuCores: Double? = nil, cpuWeight: UInt64? = nil, memoryMax: UInt64? = nil, swapMax: UInt64? = nil,
        pidsMax: UInt64? = nil, io: [IOLimit] = []
    ) {
        self.cpuCores = cpuCores
        self.cpuWeight = cpuWeight
        self.memoryMax = memoryMax
        self.swapMax = swapMax
        self.pidsMax = pidsMax
        self.io = io
    }

    public var cpuQuotaUsec: UInt64? {
        cpuCores.map { max(1000, UInt64(($0 * Double(Self.cpuPeriodUsec)).rounded())) }
    }

    /// The v2 files to write, in order. Unset limits are left out for a new cgroup (the kernel starts at
    /// "max"); with `resetUnset` they are written as "max", to lift a limit from a running task.
    public func unifiedFiles(resetUnset: Bool = false) -> [(file: String, value: String)] {
        var files: [(String, String)] = []
        func add(_ file: String, _ value: String?, unlimited: String = "max") {
            if let value { files.append((file, value)) } else if resetUnset { files.append((file, unlimited)) }
        }
        add("cpu.max", cpuQuotaUsec.map { "\($0) \(Self.cpuPeriodUsec)" }, unlimited: "max \(Self.cpuPeriodUsec)")
        add("cpu.weight", cpuWeight.map { "\($0)" }, unlimited: "100")
        add("memory.max", memoryMax.map { "\($0)" })
        // With a memory limit and no swap allowance, no swap: an OOM kill instead of thrashing.
        add("memory.swap.max", swapMax.map { "\($0)" } ?? (memoryMax == nil ? nil : "0"))
        add("pids.max", pidsMax.map { "\($0)" })
        for limit in io {
            let keys = [
                ("rbps", limit.readBps), ("wbps", limit.writeBps), ("riops", limit.readIops),
                ("wiops", limit.writeIops),
            ]
            let set = keys.map { key, value in "\(key)=\(value.map { "\($0)" } ?? "max")" }
            files.append(("io.max", "\(limit.device) " + set.joined(separator: " ")))
        }
        return files
    }

    /// The CPU quota's own file (`cpu.max` on v2, `cpu.cfs_quota_us` on v1, whose period the other files
    /// carry), the value that sets it, and the value that lifts it: the entries `unifiedFiles` and
    /// `legacyFiles` write. nil without a CPU limit.
    public func cpuQuotaFile(unified: Bool) -> (file: String, value: String, unlimited: String)? {
        guard cpuCores != nil else { return nil }
        let file = unified ? "cpu.max" : "cpu.cfs_quota_us"
        func value(_ limits: CgroupLimits) -> String? {
            unified
                ? limits.unifiedFiles(resetUnset: true).first { $0.file == file }?.value
                : limits.legacyFiles(memsw: false, resetUnset: true).first { $0.file == file }?.value
        }
        guard let set = value(self), let lifted = value(CgroupLimits()) else { return nil }
        return (file, set, lifted)
    }

    /// The v1 files to write, in order, with the controller whose hierarchy holds each. `memsw` says
    /// whether swap accounting (memory.memsw.*) exists. v1 spells unlimited -1 (cfs quota, memory) and
    /// "max" (pids); with `resetUnset` unset limits are written that way.
    public func legacyFiles(memsw: Bool, resetUnset: Bool = false) -> [(
        controller: String, file: String, value: String
    )] {
        var files: [(String, String, String)] = []
        func add(_ controller: String, _ file: String, _ value: String?, unlimited: String) {
            if let value {
                files.append((controller, file, value))
            } else if resetUnset {
                files.append((controller, file, unlimited))
            }
        }
        if cpuQuotaUsec != nil { files.append(("cpu", "cpu.cfs_period_us", "\(Self.cpuPeriodUsec)")) }
        add("cpu", "cpu.cfs_quota_us", cpuQuotaUsec.map { "\($0)" }, unlimited: "-1")
        add("cpu", "cpu.shares", cpuWeight.map { "\(max(2, $0 * 1024 / 100))" }, unlimited: "1024")
        // memsw must stay >= the memory limit: raise memsw first when lifting, set the limit first otherwise.
        if memsw && memoryMax == nil && resetUnset { files.append(("memory", "memory.memsw.limit_in_bytes", "-1")) }
        add("memory", "memory.limit_in_bytes", memoryMax.map { "\($0)" }, unlimited: "-1")
        if memsw, let memory = memoryMax {
            files.append(("memory", "memory.memsw.limit_in_bytes", "\(memory + (swapMax ?? 0))"))
        }
        add("pids", "pids.max", pidsMax.map { "\($0)" }, unlimited: "max")
        for limit in io {
            let keys = [
                ("blkio.throttle.read_bps_device", limit.readBps), ("blkio.throttle.write_bps_device", limit.writeBps),
                ("blkio.throttle.read_iops_device", limit.readIops),
                ("blkio.throttle.write_iops_device", limit.writeIops),
            ]
            // v1 removes a device's throttle when 0 is written for it.
            for (file, value) in keys {
                add("blkio", file, value.map { "\(limit.device) \($0)" }, unlimited: "\(limit.device) 0")
            }
        }
        return files
    }

    /// The v1 controllers these limits need a hierarchy in.
    public var legacyControllersNeeded: Set<String> {
        var set: Set<String> = []
        if cpuCores != nil || cpuWeight != nil { set.insert("cpu") }
        if memoryMax != nil || swapMax != nil { set.insert("memory") }
        if pidsMax != nil { set.insert("pids") }
        if !io.isEmpty { set.insert("blkio") }
        return set
    }
}
