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
        guard stat(text, &st) == 0 else { throw CgroupError(.invalid, path: text, errno: errno, detail: "not a device") }
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
        guard FileIO.exists(base + "/partition"), let parent = FileIO.readIfPresent(base + "/../dev") else { return device }
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

    public init(device: DeviceNumber, readBps: UInt64? = nil, writeBps: UInt64? = nil, readIops: UInt64? = nil, writeIops: UInt64? = nil) {
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

    public init(cpuCores: Double? = nil, cpuWeight: UInt64? = nil, memoryMax: UInt64? = nil, swapMax: UInt64? = nil, pidsMax: UInt64? = nil, io: [IOLimit] = []) {
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

    /// The v2 files to write, in order.
    public func unifiedFiles() -> [(file: String, value: String)] {
        var files: [(String, String)] = []
        if let quota = cpuQuotaUsec { files.append(("cpu.max", "\(quota) \(Self.cpuPeriodUsec)")) }
        if let weight = cpuWeight { files.append(("cpu.weight", "\(weight)")) }
        if let memory = memoryMax {
            files.append(("memory.max", "\(memory)"))
            files.append(("memory.swap.max", "\(swapMax ?? 0)"))
        } else if let swap = swapMax {
            files.append(("memory.swap.max", "\(swap)"))
        }
        if let pids = pidsMax { files.append(("pids.max", "\(pids)")) }
        for limit in io {
            let keys = [("rbps", limit.readBps), ("wbps", limit.writeBps), ("riops", limit.readIops), ("wiops", limit.writeIops)]
            let set = keys.compactMap { key, value in value.map { "\(key)=\($0)" } }
            if !set.isEmpty { files.append(("io.max", "\(limit.device) " + set.joined(separator: " "))) }
        }
        return files
    }

    /// The v1 files to write, in order, with the controller whose hierarchy holds each.
    /// `memsw` says whether swap accounting (memory.memsw.*) exists on this kernel.
    public func legacyFiles(memsw: Bool) -> [(controller: String, file: String, value: String)] {
        var files: [(String, String, String)] = []
        if let quota = cpuQuotaUsec {
            files.append(("cpu", "cpu.cfs_period_us", "\(Self.cpuPeriodUsec)"))
            files.append(("cpu", "cpu.cfs_quota_us", "\(quota)"))
        }
        if let weight = cpuWeight { files.append(("cpu", "cpu.shares", "\(max(2, weight * 1024 / 100))")) }
        if let memory = memoryMax {
            files.append(("memory", "memory.limit_in_bytes", "\(memory)"))
            if memsw { files.append(("memory", "memory.memsw.limit_in_bytes", "\(memory + (swapMax ?? 0))")) }
        }
        if let pids = pidsMax { files.append(("pids", "pids.max", "\(pids)")) }
        for limit in io {
            let keys = [
                ("blkio.throttle.read_bps_device", limit.readBps), ("blkio.throttle.write_bps_device", limit.writeBps),
                ("blkio.throttle.read_iops_device", limit.readIops), ("blkio.throttle.write_iops_device", limit.writeIops),
            ]
            for (file, value) in keys { if let value { files.append(("blkio", file, "\(limit.device) \(value)")) } }
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
