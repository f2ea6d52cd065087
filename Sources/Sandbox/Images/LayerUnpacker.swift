import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Applies image layers (uncompressed tar) to a rootfs, in order, by descriptor: every parent directory is
/// opened with O_NOFOLLOW relative to the root, so no entry is written through a symlink an earlier one made.
/// Whiteouts (`.wh.NAME`) remove what lower layers put there, opaque markers (`.wh..wh..opq`) everything of
/// lower layers in their directory. Absolute paths, `..`, device nodes and unknown entry types fail the
/// import; hard links may only point inside the rootfs.
struct LayerUnpacker {
    let rootFD: Int32
    /// Paths the current layer created: an opaque marker keeps them.
    private var created: Set<String> = []

    init(rootFD: Int32) { self.rootFD = rootFD }

    mutating func apply(_ reader: inout TarReader, layer: String) throws(ImageError) {
        created = []
        while true {
            let entry: TarEntry?
            do { entry = try reader.next() } catch { throw ImageError("layer \(layer): \(error)") }
            guard let entry else { return }
            guard let parts = Self.components(entry.path) else {
                throw ImageError("layer \(layer): refused entry \"\(entry.path)\" (absolute, or with ..)")
            }
            guard let name = parts.last else { continue }  // the root itself
            let parentPath = parts.dropLast().joined(separator: "/")
            let parent = try openDirectory(Array(parts.dropLast()), layer: layer)
            defer { if parent != rootFD { close(parent) } }
            let path = parts.joined(separator: "/")
            if name == ".wh..wh..opq" {
                try clear(parent, keeping: parentPath, layer: layer)
                continue
            }
            if name.hasPrefix(".wh.") {
                try remove(String(name.dropFirst(4)), in: parent, path: parentPath, layer: layer)
                continue
            }
            created.insert(path)
            try create(entry, name: name, in: parent, path: path, reader: &reader, layer: layer)
        }
    }

    private mutating func create(
        _ entry: TarEntry, name: String, in parent: Int32, path: String, reader: inout TarReader, layer: String
    ) throws(ImageError) {
        var existing = stat()
        let exists = fstatat(parent, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        let isDirectory = exists && existing.st_mode & S_IFMT == S_IFDIR
        if exists, !(entry.kind == .directory && isDirectory) {
            try remove(name, in: parent, path: path, layer: layer, isWhiteout: false)
        }
        switch entry.kind {
        case .directory:
            if !isDirectory, mkdirat(parent, name, 0o700) != 0 { throw failure("mkdir", path, layer) }
        case .file:
            let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw failure("create", path, layer) }
            defer { close(fd) }
            do { try reader.copyData(to: fd) } catch { throw ImageError("layer \(layer): \(path): \(error)") }
        case .symlink:
            if symlinkat(entry.linkTarget, parent, name) != 0 { throw failure("symlink", path, layer) }
        case .hardLink:
            guard let target = Self.components(entry.linkTarget), let targetName = target.last else {
                throw ImageError("layer \(layer): hard link \(path) -> \"\(entry.linkTarget)\" leaves the image")
            }
            let targetParent = try openDirectory(Array(target.dropLast()), layer: layer)
            defer { if targetParent != rootFD { close(targetParent) } }
            if linkat(targetParent, targetName, parent, name, 0) != 0 { throw failure("link", path, layer) }
            return  // a hard link shares its target's owner and mode
        case .fifo:
            if mkfifoat(parent, name, 0o600) != 0 { throw failure("mkfifo", path, layer) }
        case .characterDevice, .blockDevice:
            throw ImageError("layer \(layer): refused device node \(path)")
        case .other(let type):
            throw ImageError("layer \(layer): \(path) has an entry type Corral does not unpack (\(type))")
        }
        if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 {
            throw failure("chown", path, layer)
        }
        if entry.kind != .symlink, fchmodat(parent, name, entry.mode, 0) != 0 { throw failure("chmod", path, layer) }
    }

    /// Opens (creating what is missing) the directory `parts` below the root, never through a symlink.
    private func openDirectory(_ parts: [String], layer: String) throws(ImageError) -> Int32 {
        var fd = rootFD
        for (index, part) in parts.enumerated() {
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, mkdirat(fd, part, 0o755) == 0 {
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let err = errno
            if fd != rootFD { close(fd) }
            guard next >= 0 else {
                let path = parts[...index].joined(separator: "/")
                if err == ELOOP || err == ENOTDIR {
                    throw ImageError("layer \(layer): refused to write through \(path), which is not a directory")
                }
                throw ImageError("layer \(layer): cannot open \(path): \(String(cString: strerror(err)))")
            }
            fd = next
        }
        return fd
    }

    private func remove(_ name: String, in parent: Int32, path: String, layer: String, isWhiteout: Bool = true)
        throws(ImageError)
    {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw ImageError("layer \(layer): refused whiteout of \"\(name)\" in \(path)")
        }
        do throws(SystemError) { try FileIO.removeTree(named: name, in: parent, path: path + "/" + name) } catch {
            throw ImageError("layer \(layer): \(error)")
        }
    }

    /// An opaque directory: everything lower layers put in it goes; what this layer put there stays.
    private func clear(_ directory: Int32, keeping path: String, layer: String) throws(ImageError) {
        let copy = dup(directory)
        guard copy >= 0, let dir = fdopendir(copy) else { throw failure("opendir", path, layer) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names where !created.contains(path.isEmpty ? name : path + "/" + name) {
            try remove(name, in: directory, path: path, layer: layer)
        }
    }

    private func failure(_ what: String, _ path: String, _ layer: String) -> ImageError {
        ImageError("layer \(layer): \(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// A member name's components ("./a/b/" -> ["a", "b"]); nil for an absolute path or one with "..".
    static func components(_ path: String) -> [String]? {
        guard !path.hasPrefix("/"), !path.utf8.contains(0) else { return nil }
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." }
        return parts.contains("..") ? nil : parts
    }
}

/// Why an image could not be imported, used or removed.
public struct ImageError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
