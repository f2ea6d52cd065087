import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// The devices a task may open or create: exactly those of the sandbox's minimal /dev (null, zero, full,
/// random, urandom, tty, ptmx and the pts terminals), even if an image ships other device nodes. Where a
/// cgroup2 tree exists (pure v2 and hybrid hosts) a BPF_CGROUP_DEVICE program attached to the task's
/// cgroup2 directory enforces it (CSandbox/devices.c; loaded once); on a pure v1 host the `devices`
/// controller does.
public final class DeviceAllowlist: Sendable {
    /// The loaded program, or nil on a pure v1 host.
    private let programFD: Int32?

    /// The v1 controller's rules, after `a` (everything) is denied.
    public static let legacyRules = [
        "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm",
    ]

    public init(host: CgroupHost) throws(CgroupError) {
        guard host.unifiedMount != nil else {
            guard host.legacyMounts["devices"] != nil else {
                throw CgroupError(
                    .notSupported, path: "devices",
                    detail: "neither a cgroup2 tree nor the v1 devices controller: no device allowlist possible")
            }
            programFD = nil
            return
        }
        var log = [CChar](repeating: 0, count: 4096)
        let fd = corral_device_program_load(&log, UInt32(log.count))
        guard fd >= 0 else {
            let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let verifier = text.split(separator: "\n").suffix(3).joined(separator: "; ")
            throw CgroupError(
                .notSupported, path: "bpf(BPF_PROG_LOAD)", errno: -fd,
                detail: "cannot load the device allowlist (a kernel without CONFIG_CGROUP_BPF?) \(verifier)")
        }
        programFD = fd
    }

    deinit { if let programFD { close(programFD) } }

    /// Puts the allowlist on a new cgroup, before any process runs in it.
    public func apply(to cgroup: Cgroup) throws(CgroupError) {
        if let programFD {
            guard let dir = cgroup.unifiedPath else {
                throw CgroupError(.notSupported, path: cgroup.relativePath, detail: "no cgroup2 directory")
            }
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw CgroupError(.open, path: dir, errno: errno) }
            defer { close(fd) }
            let rc = corral_device_program_attach(programFD, fd)
            guard rc == 0 else {
                throw CgroupError(.write, path: dir, errno: -rc, detail: "attaching the device allowlist")
            }
            return
        }
        guard let dir = cgroup.legacyPaths["devices"] else {
            throw CgroupError(.notSupported, path: cgroup.relativePath, detail: "no v1 devices cgroup")
        }
        try CgroupFile.write("a", to: dir + "/devices.deny")
        for rule in Self.legacyRules { try CgroupFile.write(rule, to: dir + "/devices.allow") }
    }
}
