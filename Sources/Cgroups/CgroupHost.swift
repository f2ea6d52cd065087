import CSandbox
import Synchronization
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// How the host mounts cgroups, detected the way systemd does it.
public enum CgroupMode: String, Sendable, Codable {
    /// Pure v2: /sys/fs/cgroup is cgroup2 with the controllers.
    case unified
    /// v1 controllers plus a cgroup2 tree (usually /sys/fs/cgroup/unified) without controllers.
    case hybrid
    /// Pure v1.
    case legacy
}

/// The cgroup mounts of this host: the mode, the cgroup2 mount and each v1 controller's mount.
public struct CgroupHost: Sendable, Equatable {
    public static let cgroup2Magic: Int = 0x6367_7270
    public static let tmpfsMagic: Int = 0x0102_1994
    /// The v1 controllers Corral uses.
    public static let legacyControllers = ["cpu", "cpuacct", "memory", "pids", "blkio", "freezer", "devices"]

    public var mode: CgroupMode
    /// Mount point of the cgroup2 hierarchy (nil on pure v1).
    public var unifiedMount: String?
    /// v1 controller -> mount point (co-mounted controllers share one).
    public var legacyMounts: [String: String]

    public init(mode: CgroupMode, unifiedMount: String?, legacyMounts: [String: String]) {
        self.mode = mode
        self.unifiedMount = unifiedMount
        self.legacyMounts = legacyMounts
    }

    /// Detects this host's mode with statfs of /sys/fs/cgroup and /sys/fs/cgroup/unified, as systemd does,
    /// and finds the mounts in /proc/self/mountinfo.
    public static func detect(root: String = "/sys/fs/cgroup") throws(CgroupError) -> CgroupHost {
        let mounts = parseMountinfo(try CgroupFile.read("/proc/self/mountinfo"))
        switch FileSystem.type(root) {
        case cgroup2Magic:
            return CgroupHost(mode: .unified, unifiedMount: root, legacyMounts: [:])
        case tmpfsMagic:
            let unified = root + "/unified"
            if FileSystem.type(unified) == cgroup2Magic {
                return CgroupHost(mode: .hybrid, unifiedMount: unified, legacyMounts: mounts.legacy)
            }
            guard !mounts.legacy.isEmpty else {
                throw CgroupError(.notSupported, path: root, detail: "no cgroup v1 controllers mounted and no cgroup2")
            }
            return CgroupHost(mode: .legacy, unifiedMount: nil, legacyMounts: mounts.legacy)
        default:
            throw CgroupError(.notSupported, path: root, detail: "neither cgroup2 nor a tmpfs of v1 hierarchies")
        }
    }

    /// cgroup mounts from /proc/self/mountinfo: the cgroup2 mount point and v1 controller -> mount point.
    public static func parseMountinfo(_ text: String) -> (unified: String?, legacy: [String: String]) {
        var unified: String?
        var legacy: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = unescapeMountinfo(String(left[4]))
            switch right[0] {
            case "cgroup2":
                if unified == nil { unified = mountPoint }
            case "cgroup":
                for option in right[2].split(separator: ",") where legacyControllers.contains(String(option)) {
                    if legacy[String(option)] == nil { legacy[String(option)] = mountPoint }
                }
            default:
                continue
            }
        }
        return (unified, legacy)
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo octal.
    static func unescapeMountinfo(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out = [UInt8]()
        var bytes = Array(field.utf8)[...]
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            if b == UInt8(ascii: "\\"), bytes.count >= 3,
                let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8)
            {
                out.append(v)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Controllers available in the cgroup2 hierarchy root (empty on hybrid hosts, nil on pure v1).
    public func unifiedControllers() -> [String]? {
        guard let root = unifiedMount else { return nil }
        return FileIO.readIfPresent(root + "/cgroup.controllers").map {
            $0.split(whereSeparator: \.isWhitespace).map(String.init)
        }
    }

    /// Distinct v1 mount points for the given controllers (cpu and cpuacct may share one).
    public func legacyDirectories(for controllers: [String]) -> [(controller: String, mount: String)] {
        var seen = Set<String>()
        var result: [(String, String)] = []
        for controller in controllers {
            guard let mount = legacyMounts[controller], seen.insert(mount).inserted else { continue }
            result.append((controller, mount))
        }
        return result
    }

    /// This process's cgroup in the cgroup2 hierarchy ("0::/path" in /proc/self/cgroup), or nil.
    public static func ownUnifiedCgroup() -> String? {
        guard let text = FileIO.readIfPresent("/proc/self/cgroup") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }
}
