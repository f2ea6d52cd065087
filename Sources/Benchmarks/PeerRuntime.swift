import CSandbox
import Foundation

/// Another container runtime to compare against (crun, runc, bwrap), run the way it is normally used.
public struct PeerRuntime: Sendable {
    public var name: String
    public var path: String

    /// The runtime's executable in PATH, or nil when it is not installed.
    public static func find(_ name: String) -> PeerRuntime? {
        let search = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        for dir in search.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return PeerRuntime(name: name, path: candidate) }
        }
        return nil
    }

    /// argv for one launch of /bin/true with the same isolation Corral gives it.
    func argv(bundle: String, id: String, network: Bool) -> [String] {
        switch name {
        case "bwrap":
            // bwrap has no cgroups: namespaces and mounts only.
            return [
                path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            ] + (network ? ["--unshare-net"] : [])
                + ["/bin/true"]  // as root bwrap changes uid only inside a user namespace
        case "crun":
            return [path, "--cgroup-manager=cgroupfs", "run", "--bundle", bundle, id]
        default:
            return [path, "run", "--bundle", bundle, id]
        }
    }

    /// Runs one launch and returns its wall time, or throws with the exit status.
    func launch(_ argv: [String]) throws -> Duration {
        var status: Int32 = 0
        let elapsed = measure { status = Self.run(argv) }
        guard status == 0 else {
            throw BenchmarkError("\(name) failed (wait status \(status)): \(argv.joined(separator: " "))")
        }
        return elapsed
    }

    static func run(_ argv: [String]) -> Int32 {
        let copies = argv.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeMutableBufferPointer { corral_plain_run($0.baseAddress, 1) }
    }
}

/// An OCI bundle for crun and runc: a rootfs holding the host's /usr (and /bin, /lib... as the host has
/// them: links on merged-/usr systems, read-only binds otherwise), /bin/true run as nobody, the limits
/// Corral's variant gets (1 CPU, 64 MiB, 64 pids), and the same namespaces. pivot_root cannot use "/".
enum OCIBundle {
    static func write(to dir: String, network: Bool) throws {
        let fm = FileManager.default
        let rootfs = dir + "/rootfs"
        for mountPoint in ["usr", "proc", "tmp", "dev"] {
            try fm.createDirectory(atPath: "\(rootfs)/\(mountPoint)", withIntermediateDirectories: true)
        }
        var mounts: [[String: Any]] = [
            ["destination": "/proc", "type": "proc", "source": "proc"],
            ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]],
            ["destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]],
        ]
        for top in ["bin", "sbin", "lib", "lib32", "lib64"] {
            if let link = try? fm.destinationOfSymbolicLink(atPath: "/" + top) {
                try fm.createSymbolicLink(atPath: "\(rootfs)/\(top)", withDestinationPath: link)
            } else if fm.fileExists(atPath: "/" + top) {
                try fm.createDirectory(atPath: "\(rootfs)/\(top)", withIntermediateDirectories: true)
                mounts.append([
                    "destination": "/" + top, "type": "bind", "source": "/" + top, "options": ["rbind", "ro"],
                ])
            }
        }
        var namespaces = [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]]
        if network { namespaces.append(["type": "network"]) }
        let config: [String: Any] = [
            "ociVersion": "1.0.2",
            "process": [
                "terminal": false, "user": ["uid": 65534, "gid": 65534], "args": ["/bin/true"],
                "env": ["PATH=/usr/bin:/bin"], "cwd": "/", "noNewPrivileges": true,
            ] as [String: Any],
            "root": ["path": "rootfs", "readonly": true] as [String: Any],
            "hostname": "bench",
            "mounts": mounts,
            "linux": [
                "namespaces": namespaces,
                "resources": [
                    "memory": ["limit": 64 << 20], "cpu": ["quota": 100_000, "period": 100_000], "pids": ["limit": 64],
                ] as [String: Any],
            ] as [String: Any],
        ]
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: dir + "/config.json"))
    }
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
