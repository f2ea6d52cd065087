import CorralProtocol
import Foundation
import SystemSupport
import TestSupport
import Testing

@testable import Agent

/// A task's log files on disk: the oldest bytes punched out past twice the limit, reads by stream position
/// across trims, a fast writer kept in bound as it writes, and the daily pruning of old directories.
@Suite(.timeLimit(.minutes(1)))
struct TaskLogsTests {
    static func logs(_ directory: TemporaryDirectory) throws -> TaskLogs {
        TaskLogs(root: directory.path, allocation: "j1.0.1")
    }

    static func append(_ fd: Int32, _ text: String) {
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        #expect(written == text.utf8.count)
    }

    static func read(_ logs: TaskLogs, from offset: UInt64) -> (String, UInt64) {
        let (bytes, next) = logs.read("stdout", from: offset)
        return (String(decoding: bytes, as: UTF8.self), next)
    }

    /// Log files are root's: opened with O_NOFOLLOW in 0700 directories, so a symlink left where a log
    /// file goes is refused instead of having root append a task's output to its target.
    @Test func aSymlinkInPlaceOfALogFileIsRefusedAndTheDirectoryIsRootsAlone() throws {
        let directory = TemporaryDirectory()
        let victim = directory.path + "/victim"
        _ = FileManager.default.createFile(atPath: victim, contents: Data("intact".utf8))
        try FileManager.default.createDirectory(atPath: directory.path + "/j1.0.1", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/j1.0.1/stdout", withDestinationPath: victim)
        let logs = try Self.logs(directory)
        #expect(throws: (any Error).self) { _ = try logs.open(trimmer: nil) }
        #expect(directory.read("victim") == "intact")
        #expect(logs.read("stdout", from: 0).0.isEmpty, "reads do not follow it either")
        let fresh = TaskLogs(root: directory.path + "/logs", allocation: "j2.0.1")
        _ = try fresh.open(trimmer: nil)
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/logs/j2.0.1")[.posixPermissions]
        #expect((mode as? Int) == 0o700)
    }

    /// Bytes of the file's data on disk (its allocated blocks), not its size.
    static func onDisk(_ path: String) -> UInt64 {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_blocks) * 512 : 0
    }

    @Test func aStreamPastTwiceTheLimitLosesItsOldestBlocksAndKeepsItsOffsets() throws {
        let directory = TemporaryDirectory()
        let logs = try Self.logs(directory)
        let open = try logs.open(trimmer: nil)
        Self.append(open.stdout, String(repeating: "a", count: 8192))
        open.trim(keep: 4096)
        #expect(Self.read(logs, from: 0).1 == 8192, "at twice the limit: nothing trimmed")
        Self.append(open.stdout, String(repeating: "b", count: 808))
        open.trim(keep: 4096)
        // The last 4096 bytes or more are kept, from a block boundary; offsets are positions in the stream.
        let (text, next) = Self.read(logs, from: 0)
        #expect(next == 9000)
        #expect(text == String(repeating: "a", count: 4096) + String(repeating: "b", count: 808))
        #expect(Self.onDisk(logs.path("stdout")) <= 8192, "the punched blocks are freed")
        Self.append(open.stdout, "c")
        #expect(Self.read(logs, from: 8999).0 == "bc", "the task's O_APPEND descriptor writes at the end")
        #expect(Self.read(logs, from: 9001) == ("", 9001))
        #expect(Self.read(logs, from: 0).0.hasPrefix("a"), "a reader from the start gets the oldest byte kept")
        #expect(Self.read(logs, from: 0).1 == 9001)
    }

    @Test func aFollowerReadsEveryByteOnceWhileTheStreamIsTrimmedBehindIt() throws {
        let directory = TemporaryDirectory()
        let logs = try Self.logs(directory)
        let open = try logs.open(trimmer: nil)
        var followed = ""
        var next: UInt64 = 0
        var written = ""
        for round in 0..<50 {
            let line = String(format: "line %05d ", round) + String(repeating: "x", count: 900) + "\n"
            Self.append(open.stdout, line)
            written += line
            open.trim(keep: 4096)
            let (text, after) = Self.read(logs, from: next)
            followed += text
            next = after
        }
        #expect(followed == written)
        #expect(Self.onDisk(logs.path("stdout")) <= 3 * 4096)
    }

    /// The finding: a task writing 300 MB under an 8 MiB limit left 300 MB on disk, and rotation read the
    /// whole file into the agent. Sampled every 50 ms while `dd` writes 2,000 MiB as fast as it can, the file
    /// never holds more than three times the limit, and nothing of it passes through this process.
    @Test func aWriterAsFastAsItCanIsKeptInBoundAsItWrites() async throws {
        let directory = TemporaryDirectory()
        let logs = try Self.logs(directory)
        let limit: UInt64 = 8 << 20
        let trimmer = LogTrimmer(keep: limit)
        try #require(trimmer != nil, "inotify is needed")
        let open = try logs.open(trimmer: trimmer)
        #expect(!open.needsTrimming)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "yes 0123456789abcdef | head -c 2000M"]
        writer.standardOutput = FileHandle(fileDescriptor: open.stdout, closeOnDealloc: false)
        try writer.run()
        var largest: UInt64 = 0
        var samples = 0
        while writer.isRunning {
            largest = max(largest, Self.onDisk(logs.path("stdout")))
            samples += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        largest = max(largest, Self.onDisk(logs.path("stdout")))
        #expect(writer.terminationStatus == 0)
        var status = stat()
        #expect(stat(logs.path("stdout"), &status) == 0 && status.st_size == 2000 << 20, "every byte was written")
        #expect(largest <= 3 * limit, "\(largest >> 20) MiB on disk at most, over \(samples) samples")
        #expect(Self.read(logs, from: 0).1 >= (2000 << 20) - 2 * limit, "the newest output is what is kept")
    }

    @Test func directoriesUntouchedForADayArePrunedAndYoungerOnesKept() throws {
        let directory = TemporaryDirectory()
        let now = Date()
        for (name, hours) in [("old.0.1", 25.0), ("young.0.1", 23.0)] {
            directory.write("\(name)/stdout", "x")
            try FileManager.default.setAttributes(
                [.modificationDate: now.addingTimeInterval(-hours * 3600)], ofItemAtPath: directory.path + "/" + name)
        }
        TaskLogs.prune(root: directory.path, olderThan: 24 * 3600)
        #expect(directory.read("old.0.1/stdout") == nil)
        #expect(directory.read("young.0.1/stdout") == "x")
    }
}
