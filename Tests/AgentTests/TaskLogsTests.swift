import CorralProtocol
import Foundation
import TestSupport
import Testing

@testable import Agent

/// A task's log files on disk: rotation at the limit through the descriptors the task writes to, reads by
/// stream position across rotations, and the daily pruning of old directories.
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
        #expect(throws: (any Error).self) { _ = try logs.open() }
        #expect(directory.read("victim") == "intact")
        #expect(logs.read("stdout", from: 0).0.isEmpty, "reads do not follow it either")
        let fresh = TaskLogs(root: directory.path + "/logs", allocation: "j2.0.1")
        _ = try fresh.open()
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/logs/j2.0.1")[.posixPermissions]
        #expect((mode as? Int) == 0o700)
    }

    @Test func aStreamPastTheLimitMovesToDotOneAndTheTaskGoesOnWritingFromTheStart() throws {
        let directory = TemporaryDirectory()
        let logs = try Self.logs(directory)
        let open = try logs.open()
        Self.append(open.stdout, String(repeating: "a", count: 10))
        logs.enforce(limit: 10, open: open)
        #expect(!FileManager.default.fileExists(atPath: logs.path("stdout") + ".1"), "at the limit: not rotated")
        Self.append(open.stdout, "b")
        logs.enforce(limit: 10, open: open)
        #expect(directory.read("j1.0.1/stdout.1") == String(repeating: "a", count: 10) + "b")
        #expect(directory.read("j1.0.1/stdout") == "")
        Self.append(open.stdout, "c")
        #expect(directory.read("j1.0.1/stdout") == "c", "the task's O_APPEND descriptor writes at the new end")
        #expect(logs.base("stdout") == 11)
        #expect(directory.read("j1.0.1/stderr") == "", "the other stream is untouched")
    }

    @Test func aFollowerReadsEveryByteOnceAcrossRotationsEvenOnesItDidNotSeeComing() throws {
        let directory = TemporaryDirectory()
        let logs = try Self.logs(directory)
        let open = try logs.open()
        Self.append(open.stdout, "one\n")
        var (text, next) = Self.read(logs, from: 0)
        #expect(text == "one\n" && next == 4)
        // Written and rotated before the follower's next read: it still gets it, from `.1`.
        Self.append(open.stdout, "two\n")
        logs.enforce(limit: 4, open: open)
        Self.append(open.stdout, "three\n")
        var followed = text
        repeat {
            (text, next) = Self.read(logs, from: next)
            followed += text
        } while !text.isEmpty
        #expect(followed == "one\ntwo\nthree\n")
        #expect(next == 14)
        // A reader from the start of a rotated stream gets what is kept: `.1`, then the file.
        (text, next) = Self.read(logs, from: 0)
        #expect(text == "one\ntwo\n" && next == 8)
        // Two rotations behind: the oldest kept byte is where it goes on.
        logs.enforce(limit: 4, open: open)
        (text, next) = Self.read(logs, from: 0)
        #expect(text == "three\n" && next == 14, "\(text) \(next)")
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
