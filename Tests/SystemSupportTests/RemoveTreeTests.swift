import Foundation
import Synchronization
import SystemSupport
import TestSupport
import Testing

/// Work directories are removed as root while the task that owned them may still be at work (a process it
/// left behind, another task of the same uid). The removal must only ever delete what is inside the tree.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RemoveTreeTests {
    static func makeFiles(_ directory: String, count: Int, prefix: String = "f") {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in 0..<count {
            _ = FileManager.default.createFile(atPath: "\(directory)/\(prefix)\(index)", contents: nil)
        }
    }

    @Test func aTreeWithFilesSymlinksNestedDirectoriesAndNonUTF8NamesIsRemovedWithoutFollowingALink() throws {
        let scratch = TemporaryDirectory("corral-remove")
        let victim = scratch.path + "/victim"
        Self.makeFiles(victim, count: 3)
        let tree = scratch.path + "/tree"
        Self.makeFiles(tree + "/a/b/c", count: 5)
        Self.makeFiles(tree + "/d", count: 2)
        try FileManager.default.createSymbolicLink(atPath: tree + "/a/link", withDestinationPath: victim)
        try FileManager.default.createSymbolicLink(atPath: tree + "/dangling", withDestinationPath: "/nonexistent")
        // A name that is not UTF-8 (a task may write any bytes but '/' and NUL).
        let odd: [CChar] = Array((tree + "/d/").utf8CString.dropLast()) + [-1, -2, 0x41, 0]
        let fd = open(odd, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        close(fd)
        try FileIO.removeTree(tree)
        #expect(!FileManager.default.fileExists(atPath: tree))
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).count == 3, "a link was followed")
        try FileIO.removeTree(tree)  // gone already: not an error
        try FileManager.default.createSymbolicLink(atPath: tree, withDestinationPath: victim)
        try FileIO.removeTree(tree)  // the root itself a link: the link goes, not what it points to
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).count == 3)
    }

    /// The attack of issue 19: while the tree (20,000 files in `sub`) is removed, another process keeps
    /// renaming `sub` away and putting a symlink to a directory of someone else's files in its place. A
    /// removal that walks by path follows the link and deletes those files; one that walks by descriptor
    /// deletes only the tree's.
    @Test func aDirectorySwappedForASymlinkDuringTheRemovalNeverLeadsOutOfTheTree() throws {
        let scratch = TemporaryDirectory("corral-remove-race")
        let victim = scratch.path + "/victim"
        Self.makeFiles(victim, count: 20_000)
        let tree = scratch.path + "/tree"
        Self.makeFiles(tree + "/sub", count: 20_000)
        let done = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)
        let racer = Thread {
            let sub = tree + "/sub"
            let moved = tree + "/sub.moved"
            while !done.load(ordering: .relaxed) {
                guard rename(sub, moved) == 0 else { continue }
                symlink(victim, sub)
                swaps.add(1, ordering: .relaxed)
                usleep(20)
                unlink(sub)
                rename(moved, sub)
            }
        }
        racer.start()
        // The swaps make some removals fail (an entry moved away): retried until the tree is gone.
        let deadline = Date().addingTimeInterval(60)
        while FileManager.default.fileExists(atPath: tree + "/sub")
            || FileManager.default.fileExists(atPath: tree + "/sub.moved")
        {
            try? FileIO.removeTree(tree + "/sub")
            try? FileIO.removeTree(tree + "/sub.moved")
            if Date() > deadline { break }
        }
        done.store(true, ordering: .relaxed)
        while !racer.isFinished { usleep(1000) }
        let left = try FileManager.default.contentsOfDirectory(atPath: victim).count
        #expect(swaps.load(ordering: .relaxed) > 0, "the racer never swapped")
        #expect(left == 20_000, "\(20_000 - left) files outside the tree were deleted")
        try? FileIO.removeTree(tree)
    }
}
