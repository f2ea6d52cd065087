import CorralModel

#if canImport(Glibc)
    import Glibc
#endif

/// Task images: a directory `NAME/rootfs` under the images directory (see Images/ for recipes).
public struct ImageStore: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// The rootfs of an image, checked to exist and to hold a /bin directory.
    public func rootfs(for name: String) throws(SandboxError) -> String {
        guard Names.isValid(name, maxLength: 128) else {
            throw SandboxError(.image, "\"\(name)\" is not an image name")
        }
        let rootfs = "\(directory)/\(name)/rootfs"
        var st = stat()
        guard stat(rootfs + "/bin", &st) == 0 else {
            throw SandboxError(
                .image,
                "image \"\(name)\" is not built: \(rootfs) has no bin/ (build it with `corral image build \(name)`)",
                path: rootfs)
        }
        return rootfs
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
