import Foundation
import TestSupport
import Testing

@testable import Sandbox

/// Hostile image layers: each is refused, and nothing is written outside the rootfs.
@Suite struct LayerUnpackerTests {
    /// A ustar member: header (name, mode, size, type, link name, checksum) and data padded to 512 bytes.
    static func member(_ name: String, type: Character = "0", data: String = "", link: String = "") -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { for (i, b) in text.utf8.enumerated() { header[offset + i] = b } }
        put(name, at: 0)
        put("0000644\0", at: 100)
        put("0000000\0", at: 108)
        put("0000000\0", at: 116)
        put(String(format: "%011o\0", data.utf8.count), at: 124)
        put("00000000000\0", at: 136)
        put("        ", at: 148)
        header[156] = type.asciiValue!
        put(link, at: 157)
        put("ustar\000", at: 257)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o\0 ", sum), at: 148)
        var bytes = header + Array(data.utf8)
        bytes += [UInt8](repeating: 0, count: (512 - data.utf8.count % 512) % 512)
        return bytes
    }

    /// Unpacks `members` into a fresh rootfs; returns the error, if any, and the scratch directory.
    static func unpack(_ members: [[UInt8]]) throws -> (ImageError?, TemporaryDirectory) {
        let scratch = TemporaryDirectory("corral-layer")
        try FileManager.default.createDirectory(atPath: scratch.path + "/rootfs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/outside", withIntermediateDirectories: true)
        let archive = scratch.path + "/layer.tar"
        _ = FileManager.default.createFile(
            atPath: archive, contents: Data(members.flatMap { $0 } + [UInt8](repeating: 0, count: 1024)))
        let fd = open(archive, O_RDONLY)
        let root = open(scratch.path + "/rootfs", O_RDONLY | O_DIRECTORY)
        defer {
            close(fd)
            close(root)
        }
        var reader = TarReader(fd: fd)
        var unpacker = LayerUnpacker(rootFD: root)
        do throws(ImageError) { try unpacker.apply(&reader, layer: "test") } catch { return (error, scratch) }
        return (nil, scratch)
    }

    static func outsideIsEmpty(_ scratch: TemporaryDirectory) -> Bool {
        (try? FileManager.default.contentsOfDirectory(atPath: scratch.path + "/outside"))?.isEmpty == true
    }

    @Test("a well-formed layer unpacks: directories, files, symlinks, hard links")
    func plain() throws {
        let (error, scratch) = try Self.unpack([
            Self.member("etc/", type: "5"), Self.member("etc/hostname", data: "box\n"),
            Self.member("etc/link", type: "2", link: "hostname"),
            Self.member("etc/hard", type: "1", link: "etc/hostname"),
        ])
        #expect(error == nil, "\(String(describing: error))")
        #expect(try String(contentsOfFile: scratch.path + "/rootfs/etc/hard", encoding: .utf8) == "box\n")
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: scratch.path + "/rootfs/etc/link") == "hostname")
    }

    @Test("a member named with .. is refused", arguments: ["../outside/evil", "a/../../outside/evil"])
    func dotDot(_ name: String) throws {
        let (error, scratch) = try Self.unpack([Self.member(name, data: "x")])
        #expect(error?.description.contains("refused entry") == true, "\(String(describing: error))")
        #expect(Self.outsideIsEmpty(scratch))
    }

    @Test("an absolute member name is refused")
    func absolute() throws {
        let (error, _) = try Self.unpack([Self.member("/etc/evil", data: "x")])
        #expect(error?.description.contains("refused entry") == true, "\(String(describing: error))")
    }

    @Test("nothing is written through a symlink an earlier member made")
    func throughSymlink() throws {
        let scratch = TemporaryDirectory("corral-layer-target")
        let (error, own) = try Self.unpack([
            Self.member("escape", type: "2", link: scratch.path), Self.member("escape/evil", data: "x"),
        ])
        #expect(error?.description.contains("not a directory") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/evil"))
        #expect(Self.outsideIsEmpty(own))
    }

    @Test("a hard link to a file outside the image is refused")
    func hardLinkOut() throws {
        let (error, _) = try Self.unpack([Self.member("passwd", type: "1", link: "../../../../etc/passwd")])
        #expect(error?.description.contains("leaves the image") == true, "\(String(describing: error))")
    }

    @Test("device nodes are refused", arguments: [Character("3"), Character("4")])
    func device(_ type: Character) throws {
        let (error, scratch) = try Self.unpack([Self.member("dev/sda", type: type)])
        #expect(error?.description.contains("device node") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/rootfs/dev/sda"))
    }

    @Test("a header with a wrong checksum fails the layer")
    func checksum() throws {
        var member = Self.member("file", data: "x")
        member[0] = UInt8(ascii: "g")
        let (error, _) = try Self.unpack([member])
        #expect(error?.description.contains("checksum") == true, "\(String(describing: error))")
    }
}
