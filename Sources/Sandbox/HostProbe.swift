import CSandbox
import Cgroups
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What this host offers Corral: cgroup mode and controllers, and the kernel features the sandbox uses,
/// each probed for real (a throwaway cgroup, a clone3 into it, pidfd_open of ourselves).
public struct HostReport: Codable, Sendable {
    public var kernel: String
    public var cgroupMode: String
    public var unifiedMount: String?
    /// Controllers available in the cgroup2 tree (empty on hybrid hosts).
    public var unifiedControllers: [String]
    /// v1 controller -> mount point.
    public var legacyControllers: [String: String]
    public var cloneIntoCgroup: Bool
    public var cgroupKill: Bool
    public var pidfd: Bool
    public var pressureStallInformation: Bool
    /// A process in a cgroup with Corral's device allowlist opened /dev/null and was refused /dev/kmsg.
    public var deviceAllowlist: Bool
    public var problems: [String]

    /// The running kernel's release (uname -r).
    public static func kernelRelease() -> String {
        var uts = utsname()
        uname(&uts)
        return withUnsafeBytes(of: &uts.release) {
            String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
    }

    public static func probe() -> HostReport {
        var report = HostReport(
            kernel: kernelRelease(), cgroupMode: "unknown", unifiedMount: nil, unifiedControllers: [],
            legacyControllers: [:],
            cloneIntoCgroup: false, cgroupKill: false, pidfd: false, pressureStallInformation: false,
            deviceAllowlist: false, problems: [])
        let selfFD = corral_pidfd_open(getpid())
        report.pidfd = selfFD >= 0
        if selfFD >= 0 { close(selfFD) }
        let host: CgroupHost
        do { host = try CgroupHost.detect() } catch {
            report.problems.append(error.description)
            return report
        }
        report.cgroupMode = host.mode.rawValue
        report.unifiedMount = host.unifiedMount
        report.unifiedControllers = host.unifiedControllers() ?? []
        report.legacyControllers = host.legacyMounts
        report.pressureStallInformation = FileIO.exists("/proc/pressure/cpu")
        do { report.deviceAllowlist = try probeDeviceAllowlist(host) } catch {
            report.problems.append("device allowlist: \(error)")
        }
        guard let mount = host.unifiedMount else { return report }
        let probe = "\(mount)/corral-probe-\(getpid())"
        guard mkdir(probe, 0o755) == 0 else {
            report.problems.append("cannot create a probe cgroup in \(mount) (errno \(errno)); run as root")
            return report
        }
        defer { rmdir(probe) }
        report.cgroupKill = FileIO.exists(probe + "/cgroup.kill")
        report.pressureStallInformation = report.pressureStallInformation || FileIO.exists(probe + "/cpu.pressure")
        let fd = open(probe, Int32(CORRAL_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            report.cloneIntoCgroup = corral_probe_clone_into_cgroup(fd) == 1
            close(fd)
        }
        return report
    }

    /// Aligned `name: value` lines.
    public var text: String {
        let yes = { (flag: Bool) in flag ? "yes" : "no" }
        var lines = [
            ("kernel", kernel), ("cgroup mode", cgroupMode), ("cgroup2 mount", unifiedMount ?? "-"),
            ("cgroup2 controllers", unifiedControllers.isEmpty ? "(none)" : unifiedControllers.joined(separator: " ")),
            (
                "v1 controllers",
                legacyControllers.isEmpty
                    ? "(none)"
                    : legacyControllers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                        separator: " ")
            ),
            ("clone3 into cgroup", yes(cloneIntoCgroup)), ("cgroup.kill", yes(cgroupKill)), ("pidfd", yes(pidfd)),
            ("PSI", yes(pressureStallInformation)), ("device allowlist", yes(deviceAllowlist)),
        ]
        lines += problems.map { ("problem", $0) }
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0.padding(width) + "  " + $0.1 }.joined(separator: "\n")
    }
}

extension HostReport {
    /// A throwaway cgroup with the allowlist, and a child in it that opens an allowed and a denied device.
    static func probeDeviceAllowlist(_ host: CgroupHost) throws(CgroupError) -> Bool {
        let allowlist = try DeviceAllowlist(host: host)
        let cgroup = try Cgroup.create(
            name: "corral-probe-devices-\(getpid())", parent: "", host: host,
            legacyControllers: host.unifiedMount == nil ? ["devices"] : [])
        defer {
            for dir in [cgroup.unifiedPath].compactMap({ $0 }) + cgroup.legacyPaths.values { rmdir(dir) }
        }
        try allowlist.apply(to: cgroup)
        let fd = cgroup.unifiedPath.map { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } ?? -1
        defer { if fd >= 0 { close(fd) } }
        let tasks = fd >= 0 ? nil : cgroup.legacyPaths["devices"].map { $0 + "/tasks" }
        let rc = corral_probe_device_allowlist(fd, tasks)
        guard rc >= 0 else { throw CgroupError(.open, path: cgroup.relativePath, errno: -rc) }
        return rc == 0
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
