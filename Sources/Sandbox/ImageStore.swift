#if canImport(Glibc)
    import Glibc
#endif

/// Task images: a directory `NAME/rootfs` under the images directory (see Images/ for recipes).
public struct ImageStore: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// The rootfs of an image, checked to exist and to hold a /bin directory.
    public func rootfs(for name: String) throws(SandboxError) -> String {
        guard TaskSpec.isValidName(name, maxLength: 128) else {
            throw SandboxError(.image, "\"\(name)\" is not an image name")
        }
        let rootfs = "\(directory)/\(name)/rootfs"
        var st = stat()
        guard stat(rootfs + "/bin", &st) == 0 else {
            throw SandboxError(
                .image, "image \"\(name)\" is not built: \(rootfs) has no bin/ (build it with `corral image build \(name)`)",
                path: rootfs)
        }
        return rootfs
    }
}
