import CorralModel
import CorralProtocol
import Sandbox
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A directory of the host an agent offers tasks as a volume (`--volume NAME=PATH[:ro]`).
public struct HostVolume: Sendable, Equatable {
    public var path: String
    public var readOnly: Bool

    public init(path: String, readOnly: Bool) {
        self.path = path
        self.readOnly = readOnly
    }

    /// `NAME=PATH[:ro]` (or `:rw`); PATH absolute and an existing directory.
    public static func parse(_ text: String) throws(AgentError) -> (String, HostVolume) {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, Names.isValid(String(parts[0]), maxLength: 63) else {
            throw AgentError.configuration(
                "--volume \"\(text)\": expected NAME=PATH[:ro] with NAME of A-Z a-z 0-9 . _ -")
        }
        var path = String(parts[1])
        var readOnly = false
        if path.hasSuffix(":ro") || path.hasSuffix(":rw") {
            readOnly = path.hasSuffix(":ro")
            path.removeLast(3)
        }
        guard path.hasPrefix("/"), FileMetadata.of(path: path)?.kind == .directory else {
            throw AgentError.configuration("--volume \(parts[0]): \(path) is not an existing directory")
        }
        return (String(parts[0]), HostVolume(path: path, readOnly: readOnly))
    }
}

extension Agent {
    /// The node labels that advertise the volumes (placement's constraint for jobs that mount them).
    static func labels(of volumes: [String: HostVolume]) -> [String: String] {
        var labels: [String: String] = [:]
        for (name, volume) in volumes {
            labels.merge(VolumeMount.labels(name: name, readOnly: volume.readOnly)) { a, _ in a }
        }
        return labels
    }

    /// `corral.image.NAME:TAG` (and `corral.image.NAME` for recipe images) for every image this node holds.
    func imageLabels() -> [String: String] {
        var labels: [String: String] = [:]
        for entry in ImageStore(directory: configuration.sandbox.imagesDirectory).list() {
            labels[entry.reference.label] = "yes"
        }
        return labels
    }

    /// The task's volume binds. A writable volume's directory is given to the tenant's group (setgid, 2770),
    /// so the tenant's tasks, each under a uid of its own, share it and no other tenant's task can enter it;
    /// one that already belongs to another tenant's group is refused.
    func mounts(for allocation: Allocation) throws(AgentError) -> [BindMount] {
        var mounts: [BindMount] = []
        for volume in allocation.volumes ?? [] {
            guard let host = configuration.volumes[volume.name] else {
                throw AgentError.configuration("node \(configuration.nodeID) has no volume \(volume.name)")
            }
            if !volume.readOnly {
                guard !host.readOnly else {
                    throw AgentError.configuration("volume \(volume.name) is read-only on node \(configuration.nodeID)")
                }
                guard let gid = tenantGroups.gid(for: allocation.tenant) else {
                    throw AgentError.configuration("no tenant group left for \(allocation.tenant) (--tenant-gids)")
                }
                try Self.share(host.path, with: gid, groups: tenantGroups.range, name: volume.name)
            }
            mounts.append(BindMount(source: host.path, target: volume.target, readOnly: volume.readOnly))
        }
        return mounts
    }

    /// Gives the directory to the group `gid` (setgid, rwx for owner and group, nothing for others), by
    /// descriptor; refused when another tenant's group has it.
    static func share(_ path: String, with gid: UInt32, groups: IdentityRange, name: String) throws(AgentError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw AgentError.io("volume \(name): cannot open \(path)", errno: errno) }
        defer { close(fd) }
        guard let st = FileMetadata.of(fd) else {
            throw AgentError.io("volume \(name): cannot stat \(path)", errno: errno)
        }
        if st.gid != gid, groups.contains(st.gid) {
            throw AgentError.configuration("volume \(name) (\(path)) belongs to another tenant's group \(st.gid)")
        }
        if st.gid != gid, fchown(fd, uid_t.max, gid) != 0 {
            throw AgentError.io("volume \(name): cannot give \(path) to group \(gid)", errno: errno)
        }
        if st.mode != 0o2770, fchmod(fd, 0o2770) != 0 {
            throw AgentError.io("volume \(name): cannot set the mode of \(path)", errno: errno)
        }
    }
}
