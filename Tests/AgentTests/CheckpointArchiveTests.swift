import Foundation
import SystemSupport
import TestSupport
import Testing

@testable import Agent

/// Checkpoint archives: a directory packed and unpacked elsewhere reads back the same; links and special
/// files the task made are left out; the size limit holds; an archive that would write outside its
/// directory is refused.
@Suite struct CheckpointArchiveTests {
    func open(_ path: String) -> Int32 { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }

    @Test func aDirectoryReadsBackAsItWasAndLinksStayBehind() throws {
        let source = TemporaryDirectory("corral-ck-source")
        let target = TemporaryDirectory("corral-ck-target")
        try FileManager.default.createDirectory(atPath: source.path + "/sub/deeper", withIntermediateDirectories: true)
        try "42\n".write(toFile: source.path + "/count", atomically: true, encoding: .utf8)
        try Data(repeating: 7, count: 200_000).write(to: URL(fileURLWithPath: source.path + "/sub/deeper/blob"))
        try FileManager.default.createSymbolicLink(atPath: source.path + "/escape", withDestinationPath: "/etc")
        mkfifo(source.path + "/pipe", 0o600)
        let fd = open(source.path)
        defer { close(fd) }
        let listing = CheckpointArchive.listing(of: fd)
        #expect(listing.count == 4, "count, sub, sub/deeper, sub/deeper/blob: \(listing)")
        // Packed after a listing of the same descriptor: the listing must not have used it up.
        let archive = try CheckpointArchive.pack(fd, limit: 1 << 20)
        let into = open(target.path)
        defer { close(into) }
        try CheckpointArchive.unpack(archive, into: into, uid: 1234, gid: 4321)
        #expect(try String(contentsOfFile: target.path + "/count", encoding: .utf8) == "42\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target.path + "/sub/deeper/blob")).count == 200_000)
        #expect(FileMetadata.of(path: target.path + "/count")?.uid == 1234)
        #expect(FileMetadata.of(path: target.path + "/sub")?.gid == 4321)
        let names = try FileManager.default.contentsOfDirectory(atPath: target.path).sorted()
        #expect(names == ["count", "sub"], "the link and the FIFO are not in the archive")
        #expect(CheckpointArchive.listing(of: fd) == listing)
    }

    @Test func aDirectoryOverTheLimitIsRefusedNamingTheLimit() throws {
        let source = TemporaryDirectory("corral-ck-big")
        try Data(repeating: 1, count: 70_000).write(to: URL(fileURLWithPath: source.path + "/big"))
        let fd = open(source.path)
        defer { close(fd) }
        #expect(throws: CheckpointArchive.Failure.self) { _ = try CheckpointArchive.pack(fd, limit: 65_536) }
        do { _ = try CheckpointArchive.pack(fd, limit: 65_536) } catch {
            #expect(error.description.contains("checkpointLimit of 65536"))
        }
    }

    @Test(arguments: ["../escape", "a/../../b", "/etc/passwd", "", "a//b"])
    func anArchiveThatWouldLeaveItsDirectoryIsRefused(_ path: String) throws {
        let target = TemporaryDirectory("corral-ck-hostile")
        var archive = CheckpointArchive.magic
        archive.append(UInt8(ascii: "f"))
        CheckpointArchive.append(UInt64(path.utf8.count), bytes: 2, to: &archive)
        archive += Array(path.utf8)
        CheckpointArchive.append(0o644, bytes: 2, to: &archive)
        CheckpointArchive.append(1, bytes: 8, to: &archive)
        archive.append(65)
        let fd = open(target.path)
        defer { close(fd) }
        #expect(throws: CheckpointArchive.Failure.self) {
            try CheckpointArchive.unpack(archive, into: fd, uid: 0, gid: 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
    }

    /// An archive comes from another node's agent: a file size past Int.max is refused, not a trap.
    @Test func aSizePastAnyFileIsRefusedNotATrap() throws {
        let target = TemporaryDirectory("corral-ck-size")
        var archive = CheckpointArchive.magic
        archive.append(UInt8(ascii: "f"))
        CheckpointArchive.append(4, bytes: 2, to: &archive)
        archive += Array("huge".utf8)
        CheckpointArchive.append(0o644, bytes: 2, to: &archive)
        CheckpointArchive.append(UInt64.max, bytes: 8, to: &archive)
        let fd = open(target.path)
        defer { close(fd) }
        #expect(throws: CheckpointArchive.Failure.self) {
            try CheckpointArchive.unpack(archive, into: fd, uid: 0, gid: 0)
        }
    }
}
