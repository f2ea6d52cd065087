/// A host volume a job's tasks mount (`"volumes"` in a job spec): a directory an agent declares with
/// `--volume NAME=PATH[:ro]`, bound at `target` in the task.
public struct VolumeMount: Sendable, Equatable, Codable {
    public var name: String
    /// Absolute path inside the task.
    public var target: String
    public var readOnly: Bool

    public init(name: String, target: String, readOnly: Bool = false) {
        self.name = name
        self.target = target
        self.readOnly = readOnly
    }

    public static let limit = 16
    /// Where no volume may go: the task's own mounts.
    static let reserved = ["/proc", "/sys", "/dev", "/work", "/tmp"]

    /// Why `target` cannot be a mount point, or nil: absolute, normalized, not /, nor in the task's own mounts.
    public static func problem(target: String) -> String? {
        let parts = target.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard target.hasPrefix("/"), !parts.isEmpty, target.utf8.count <= 256,
            !parts.contains(where: { ["", ".", ".."].contains($0) }), !target.utf8.contains(0)
        else { return "\"\(target)\" must be an absolute, normalized path other than / (at most 256 bytes)" }
        if let mount = reserved.first(where: { target == $0 || target.hasPrefix($0 + "/") }) {
            return "\"\(target)\" is inside \(mount), which the sandbox mounts itself"
        }
        return nil
    }

    /// The node labels an agent advertises for its volumes: `corral.volume.NAME` for every one, and
    /// `corral.volume.NAME.writable` for those it offers writable.
    public static func labels(name: String, readOnly: Bool) -> [String: String] {
        var labels = ["corral.volume.\(name)": "yes"]
        if !readOnly { labels["corral.volume.\(name).writable"] = "yes" }
        return labels
    }

    /// What a node must have for this mount: the volume, writable unless mounted read-only.
    public var constraint: (key: String, value: String) {
        (readOnly ? "corral.volume.\(name)" : "corral.volume.\(name).writable", "yes")
    }
}

extension JobSpec {
    /// The job's constraints with those its volumes and image imply: placement's hard filter on node labels.
    public var placementConstraints: [String: String] {
        var all = constraints
        for volume in volumes { all[volume.constraint.key] = volume.constraint.value }
        if let image = image.flatMap(ImageReference.init) { all[image.label] = "yes" }
        return all
    }
}

extension FieldReader {
    static let volumeFields: Set<String> = ["name", "target", "readOnly"]

    mutating func volumes(_ value: JSONValue?) -> [VolumeMount] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else {
            fail("volumes", "must be an array of {\"name\", \"target\", \"readOnly\"}, not \(value.shortDescription)")
            return []
        }
        if items.count > VolumeMount.limit { fail("volumes", "\(items.count) volumes: at most \(VolumeMount.limit)") }
        var mounts: [VolumeMount] = []
        var targets: Set<String> = []
        for (index, item) in items.prefix(VolumeMount.limit).enumerated() {
            let path = "volumes[\(index)]"
            guard let fields = object(item, path, known: Self.volumeFields) else { continue }
            let name = self.name(fields["name"], "\(path).name", limit: 63, required: true)
            let target = string(fields["target"], "\(path).target", required: true)
            if let target, let problem = VolumeMount.problem(target: target) {
                fail("\(path).target", problem)
            } else if let target,
                let clash = targets.first(where: {
                    $0.hasPrefix(target + "/") || target.hasPrefix($0 + "/") || $0 == target
                })
            {
                fail("\(path).target", "\"\(target)\" overlaps \"\(clash)\" of another volume")
            }
            let readOnly = bool(fields["readOnly"], "\(path).readOnly") ?? false
            if let name, let target {
                targets.insert(target)
                mounts.append(VolumeMount(name: name, target: target, readOnly: readOnly))
            }
        }
        return mounts
    }
}

extension VolumeMount {
    var json: JSONValue {
        .object(["name": .string(name), "target": .string(target), "readOnly": .bool(readOnly)])
    }
}
