import CorralModel
import Crypto
import Foundation
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `corral image import`: an OCI image layout archive (`umoci`, `skopeo copy … oci-archive:`) or a
/// `docker save` archive into the image store. Every blob's sha256 is checked against the digest that names
/// it (docker: the config's file name and its layers' diff_ids), the layers are unpacked in order
/// (`LayerUnpacker`), and the rootfs is stored once per content digest, read-only to tasks, with the
/// reference `NAME:TAG` pointing at it.
public enum ImageImport {
    public struct Result: Sendable {
        public var reference: ImageReference
        public var digest: String
        public var layers: Int
        /// False when the store held the content already (only the reference was written).
        public var unpacked: Bool
    }

    public static func run(archive: String, into store: ImageStore, as name: ImageReference?) throws(ImageError)
        -> Result
    {
        let staging = try store.makeStaging()
        defer { try? FileIO.removeTree(staging) }
        try extract(archive: archive, into: staging + "/archive")
        let root = staging + "/archive"
        let plan: Plan
        if FileManager.default.fileExists(atPath: root + "/index.json") {
            plan = try ociPlan(root, name: name)
        } else if FileManager.default.fileExists(atPath: root + "/manifest.json") {
            plan = try dockerPlan(root, name: name)
        } else {
            throw ImageError(
                "\(archive) is neither an OCI image layout (index.json) nor a docker save archive (manifest.json)")
        }
        let target = store.contentDirectory(plan.digest)
        var unpacked = false
        if !FileManager.default.fileExists(atPath: target + "/rootfs") {
            let rootfs = staging + "/rootfs"
            guard mkdir(rootfs, 0o755) == 0 else { throw ImageError("cannot create \(rootfs): errno \(errno)") }
            let rootFD = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard rootFD >= 0 else { throw ImageError("cannot open \(rootfs): errno \(errno)") }
            defer { close(rootFD) }
            var unpacker = LayerUnpacker(rootFD: rootFD)
            for (index, layer) in plan.layers.enumerated() {
                let tar = try uncompressed(layer, staging: staging, index: index)
                let fd = open(tar, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw ImageError("cannot open layer \(index): errno \(errno)") }
                defer { close(fd) }
                if let diffID = layer.diffID { try verify(tar, digest: diffID, what: "layer \(index) (diff_id)") }
                var reader = TarReader(fd: fd)
                try unpacker.apply(&reader, layer: "\(index + 1) of \(plan.layers.count)")
                if tar != layer.path { unlink(tar) }
            }
            // The sandbox's mount points, made now: the stored rootfs is never changed by a task's start.
            for point in ["proc", "sys", "dev", "tmp", "work"]
            where mkdirat(rootFD, point, 0o755) != 0 && errno != EEXIST {
                throw ImageError("cannot create /\(point) in the image: errno \(errno)")
            }
            try store.commit(staging: staging, rootfs: "rootfs", digest: plan.digest)
            unpacked = true
        }
        guard let reference = name ?? plan.reference else {
            throw ImageError("the archive names no image: give one with --name NAME:TAG")
        }
        try store.tag(reference, digest: plan.digest)
        return Result(reference: reference, digest: plan.digest, layers: plan.layers.count, unpacked: unpacked)
    }

    struct Layer {
        var path: String
        var gzip: Bool
        /// Docker archives: the sha256 of the uncompressed layer, from the image config.
        var diffID: String?
    }

    struct Plan {
        var digest: String
        var layers: [Layer]
        var reference: ImageReference?
    }

    // MARK: OCI image layout

    static func ociPlan(_ root: String, name: ImageReference?) throws(ImageError) -> Plan {
        let index = try json(root + "/index.json")
        let manifests = (index["manifests"] as? [[String: Any]]) ?? []
        let tagged = manifests.compactMap { manifest -> (String, [String: Any])? in
            let annotations = manifest["annotations"] as? [String: String]
            return annotations?["org.opencontainers.image.ref.name"].map { ($0, manifest) }
        }
        let chosen: [String: Any]
        if let name, let match = tagged.first(where: { $0.0 == name.tag || $0.0 == name.description }) {
            chosen = match.1
        } else if manifests.count == 1 {
            chosen = manifests[0]
        } else {
            throw ImageError(
                "the layout holds \(manifests.count) manifests (\(tagged.map(\.0).joined(separator: ", "))): "
                    + "name the one to import with --name NAME:TAG")
        }
        let digest = try descriptorDigest(chosen, "index.json manifest")
        let manifestPath = try blob(root, digest, size: chosen["size"], what: "the manifest")
        let manifest = try json(manifestPath)
        if let config = manifest["config"] as? [String: Any] {
            _ = try blob(root, try descriptorDigest(config, "config"), size: config["size"], what: "the config")
        }
        var layers: [Layer] = []
        for (index, layer) in ((manifest["layers"] as? [[String: Any]]) ?? []).enumerated() {
            let mediaType = layer["mediaType"] as? String ?? ""
            guard !mediaType.contains("zstd") else { throw ImageError("layer \(index): zstd layers are not supported") }
            let path = try blob(
                root, try descriptorDigest(layer, "layer \(index)"), size: layer["size"], what: "layer \(index)")
            layers.append(Layer(path: path, gzip: mediaType.hasSuffix("gzip") || isGzip(path)))
        }
        let refName = (chosen["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"]
        // umoci writes the tag alone; a full NAME:TAG names the image too.
        return Plan(
            digest: digest, layers: layers, reference: refName.flatMap { $0.contains(":") ? ImageReference($0) : nil })
    }

    // MARK: docker save

    static func dockerPlan(_ root: String, name: ImageReference?) throws(ImageError) -> Plan {
        guard let data = FileManager.default.contents(atPath: root + "/manifest.json"),
            let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], let first = entries.first
        else { throw ImageError("manifest.json is not a docker save manifest") }
        let entry: [String: Any]
        if let name,
            let match = entries.first(where: { (($0["RepoTags"] as? [String]) ?? []).contains(name.description) })
        {
            entry = match
        } else {
            guard entries.count == 1 else {
                throw ImageError("the archive holds \(entries.count) images: name one with --name")
            }
            entry = first
        }
        guard let configName = entry["Config"] as? String, let configParts = LayerUnpacker.components(configName),
            let layerNames = entry["Layers"] as? [String]
        else { throw ImageError("manifest.json lacks Config or Layers") }
        let configPath = root + "/" + configParts.joined(separator: "/")
        // The config is named by its own digest: `<hex>.json` or `blobs/sha256/<hex>`.
        let configHex = configParts.last!.replacingOccurrences(of: ".json", with: "")
        try verify(configPath, digest: "sha256:" + configHex, what: "the config")
        let config = try json(configPath)
        let diffIDs = ((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String]) ?? []
        guard diffIDs.count == layerNames.count else {
            throw ImageError("the config lists \(diffIDs.count) layers, manifest.json \(layerNames.count)")
        }
        var layers: [Layer] = []
        for (layerName, diffID) in zip(layerNames, diffIDs) {
            guard let parts = LayerUnpacker.components(layerName) else {
                throw ImageError("layer \"\(layerName)\" leaves the archive")
            }
            let path = root + "/" + parts.joined(separator: "/")
            layers.append(Layer(path: path, gzip: isGzip(path), diffID: diffID))
        }
        let reference = ((entry["RepoTags"] as? [String]) ?? []).first.flatMap(ImageReference.init)
        return Plan(digest: "sha256:" + configHex, layers: layers, reference: reference)
    }

    // MARK: Blobs

    static func descriptorDigest(_ descriptor: [String: Any], _ what: String) throws(ImageError) -> String {
        guard let digest = descriptor["digest"] as? String, digest.hasPrefix("sha256:"),
            digest.utf8.count == 71, digest.dropFirst(7).allSatisfy(\.isHexDigit)
        else { throw ImageError("\(what): digest is not sha256:<64 hex digits>") }
        return digest.lowercased()
    }

    /// The blob's path, after checking its size and sha256 against its descriptor.
    static func blob(_ root: String, _ digest: String, size: Any?, what: String) throws(ImageError) -> String {
        let path = root + "/blobs/sha256/" + digest.dropFirst(7)
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw ImageError("\(what): blob \(digest) is missing")
        }
        if let size = size as? Int, size != Int(st.st_size) {
            throw ImageError("\(what): blob \(digest) is \(st.st_size) bytes, its descriptor says \(size)")
        }
        try verify(path, digest: digest, what: what)
        return path
    }

    static func verify(_ path: String, digest: String, what: String) throws(ImageError) {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError("\(what): cannot open \(path): errno \(errno)") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw ImageError("\(what): cannot read: errno \(errno)") }
            if n == 0 { break }
            hasher.update(data: buffer[..<n])
        }
        let actual = "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard actual == digest.lowercased() else {
            throw ImageError("\(what): sha256 mismatch: expected \(digest), the blob is \(actual)")
        }
    }

    static func isGzip(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data([0x1f, 0x8b])
    }

    /// The layer as a plain tar: itself, or decompressed by gzip into the staging directory.
    static func uncompressed(_ layer: Layer, staging: String, index: Int) throws(ImageError) -> String {
        guard layer.gzip else { return layer.path }
        let out = staging + "/layer-\(index).tar"
        guard FileManager.default.createFile(atPath: out, contents: nil),
            let output = FileHandle(forWritingAtPath: out),
            let input = FileHandle(forReadingAtPath: layer.path)
        else { throw ImageError("cannot stage layer \(index)") }
        defer {
            try? output.close()
            try? input.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc"]
        process.standardInput = input
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch { throw ImageError("cannot run gzip: \(error)") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ImageError("layer \(index) does not decompress: \(String(decoding: message, as: UTF8.self))")
        }
        return out
    }

    static func json(_ path: String) throws(ImageError) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw ImageError("\(path.split(separator: "/").suffix(3).joined(separator: "/")) is not a JSON object") }
        return object
    }

    /// The outer archive into `directory`: regular files and directories only, no absolute or `..` names.
    static func extract(archive: String, into directory: String) throws(ImageError) {
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError("cannot open \(archive): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard mkdir(directory, 0o700) == 0 else { throw ImageError("cannot create \(directory): errno \(errno)") }
        var reader = TarReader(fd: fd)
        while true {
            let entry: TarEntry?
            do { entry = try reader.next() } catch { throw ImageError("\(archive): \(error)") }
            guard let entry else { return }
            guard let parts = LayerUnpacker.components(entry.path) else {
                throw ImageError("\(archive): refused member \"\(entry.path)\"")
            }
            guard !parts.isEmpty, entry.kind == .file || entry.kind == .directory else { continue }
            let path = directory + "/" + parts.joined(separator: "/")
            let parent = entry.kind == .directory ? path : directory + "/" + parts.dropLast().joined(separator: "/")
            do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
                throw ImageError("cannot create \(parent): \(error)")
            }
            guard entry.kind == .file else { continue }
            let out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard out >= 0 else { throw ImageError("\(archive): cannot write member \(entry.path): errno \(errno)") }
            defer { close(out) }
            do { try reader.copyData(to: out) } catch { throw ImageError("\(archive): \(error)") }
        }
    }
}
