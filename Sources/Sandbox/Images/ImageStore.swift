import CorralModel
import Foundation
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Task images under the images directory:
/// - imported images (`corral image import`): the content once per digest in `sha256/<hex>/rootfs`, and a
///   reference per `NAME:TAG` in `refs/NAME/TAG` holding the digest;
/// - recipe images (`corral image build`, Images/): `NAME/rootfs`.
/// Tasks get an image read-only (the sandbox binds and locks it down), so one copy serves every task.
public struct ImageStore: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// One stored image reference.
    public struct Entry: Sendable, Equatable {
        public var reference: ImageReference
        /// `sha256:<hex>` for imported images; nil for recipe images.
        public var digest: String?
        public var rootfs: String
    }

    /// The rootfs of an image, checked to exist.
    public func rootfs(for text: String) throws(SandboxError) -> String {
        guard let reference = ImageReference(text) else {
            throw SandboxError(.image, "\"\(text)\" \(ImageReference.rule)")
        }
        if let tag = reference.tag {
            guard let digest = digest(of: reference) else {
                throw SandboxError(
                    .image,
                    "image \(reference) is not on this node (import it with `corral image import FILE --name \(reference)`)",
                    path: refPath(reference.name, tag))
            }
            return contentDirectory(digest) + "/rootfs"
        }
        let rootfs = "\(directory)/\(reference.name)/rootfs"
        var st = stat()
        guard stat(rootfs + "/bin", &st) == 0 else {
            throw SandboxError(
                .image,
                "image \"\(reference.name)\" is not built: \(rootfs) has no bin/ (build it with `corral image build \(reference.name)`)",
                path: rootfs)
        }
        return rootfs
    }

    func refPath(_ name: String, _ tag: String) -> String { "\(directory)/refs/\(name)/\(tag)" }

    public func contentDirectory(_ digest: String) -> String { "\(directory)/sha256/\(digest.dropFirst(7))" }

    /// The digest a reference points at, if it is stored.
    public func digest(of reference: ImageReference) -> String? {
        guard let tag = reference.tag, let text = FileIO.readIfPresent(refPath(reference.name, tag)) else { return nil }
        let digest = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return digest.hasPrefix("sha256:") && digest.utf8.count == 71 ? digest : nil
    }

    /// Every image on this node: imported references and recipe images.
    public func list() -> [Entry] {
        var entries: [Entry] = []
        let files = FileManager.default
        for name in (try? files.contentsOfDirectory(atPath: directory + "/refs")) ?? [] {
            for tag in (try? files.contentsOfDirectory(atPath: "\(directory)/refs/\(name)")) ?? [] {
                let reference = ImageReference(name: name, tag: tag)
                guard Names.isValid(name, maxLength: 128), Names.isValid(tag, maxLength: 128),
                    let digest = digest(of: reference)
                else { continue }
                entries.append(
                    Entry(reference: reference, digest: digest, rootfs: contentDirectory(digest) + "/rootfs"))
            }
        }
        for name in (try? files.contentsOfDirectory(atPath: directory)) ?? []
        where !["refs", "sha256", "tmp"].contains(name) && Names.isValid(name, maxLength: 128)
            && files.fileExists(atPath: "\(directory)/\(name)/rootfs/bin")
        {
            entries.append(
                Entry(
                    reference: ImageReference(name: name, tag: nil), digest: nil, rootfs: "\(directory)/\(name)/rootfs")
            )
        }
        return entries.sorted { $0.reference.description < $1.reference.description }
    }

    /// A fresh private directory for an import, inside the store (so its result is renamed into place).
    func makeStaging() throws(ImageError) -> String {
        let tmp = directory + "/tmp"
        do { try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true) } catch {
            throw ImageError("cannot create \(tmp): \(error)")
        }
        let path = tmp + "/import-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o700) == 0 else { throw ImageError("cannot create \(path): errno \(errno)") }
        return path
    }

    /// Moves an unpacked rootfs into its content directory (a concurrent import of the same content wins).
    func commit(staging: String, rootfs: String, digest: String) throws(ImageError) {
        let target = contentDirectory(digest)
        do { try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true) } catch {
            throw ImageError("cannot create \(target): \(error)")
        }
        chmod(target, 0o755)
        if rename(staging + "/" + rootfs, target + "/rootfs") != 0, errno != EEXIST, errno != ENOTEMPTY {
            throw ImageError("cannot store the image in \(target): errno \(errno)")
        }
    }

    /// Points `reference` at `digest` (written atomically).
    func tag(_ reference: ImageReference, digest: String) throws(ImageError) {
        guard let tag = reference.tag else {
            throw ImageError("\(reference): an imported image needs a tag (NAME:TAG)")
        }
        let directory = "\(self.directory)/refs/\(reference.name)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileIO.writeAtomically(Array((digest + "\n").utf8), to: "\(directory)/\(tag)", mode: 0o644)
        } catch { throw ImageError("cannot write the reference \(reference): \(error)") }
    }

    /// Removes a reference, and its content when no other reference points at it. Refused while a task
    /// runs in it (a process whose root is the image's rootfs).
    public func remove(_ reference: ImageReference) throws(ImageError) {
        guard let tag = reference.tag, let digest = digest(of: reference) else {
            throw ImageError("no imported image \(reference) here (`corral image ls`)")
        }
        let rootfs = contentDirectory(digest) + "/rootfs"
        let users = Self.processes(rootedIn: rootfs)
        guard users.isEmpty else {
            throw ImageError(
                "image \(reference) is in use by \(users.count) process(es) (pids \(users.prefix(5).map(String.init).joined(separator: ", ")))"
            )
        }
        unlink(refPath(reference.name, tag))
        rmdir("\(directory)/refs/\(reference.name)")
        if !list().contains(where: { $0.digest == digest }) {
            do { try FileIO.removeTree(contentDirectory(digest)) } catch { throw ImageError("\(error)") }
        }
    }

    /// Processes whose root directory is `rootfs` (tasks pivot into their image): the same device and inode
    /// through /proc/PID/root, whatever mount namespace the process is in.
    static func processes(rootedIn rootfs: String) -> [Int32] {
        var image = stat()
        guard stat(rootfs, &image) == 0 else { return [] }
        var found: [Int32] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            var root = stat()
            guard let pid = Int32(name), stat("/proc/\(name)/root/", &root) == 0 else { continue }
            if root.st_dev == image.st_dev && root.st_ino == image.st_ino { found.append(pid) }
        }
        return found.sorted()
    }
}

extension ImageStore {
    /// Where recipes are looked for: `$CORRAL_IMAGE_RECIPES`, `./Images`, then `<prefix>/share/corral/Images`
    /// next to the executable.
    public static func defaultRecipes(executable: String) -> String {
        if let env = getenv("CORRAL_IMAGE_RECIPES") { return String(cString: env) }
        if access("Images", F_OK) == 0 { return "Images" }
        let bin = executable.split(separator: "/").dropLast().joined(separator: "/")
        return "/" + bin + "/../share/corral/Images"
    }

    /// The recipe script of an image, checked to exist.
    public func recipe(for name: String, in recipes: String) throws(SandboxError) -> String {
        guard Names.isValid(name, maxLength: 128) else {
            throw SandboxError(.image, "\"\(name)\" is not an image name")
        }
        let script = "\(recipes)/\(name)/build.sh"
        guard access(script, R_OK) == 0 else {
            throw SandboxError(
                .image, "no recipe for image \"\(name)\": \(script) not found (use --recipes DIR)", path: script)
        }
        return script
    }
}
