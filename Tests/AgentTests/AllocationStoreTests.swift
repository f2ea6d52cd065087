import CorralModel
import CorralProtocol
import Foundation
import Sandbox
import TestSupport
import Testing

@testable import Agent

/// The agent's allocation records on disk: appended lines, and files reused instead of deleted.
struct AllocationStoreTests {
    static func allocation(_ id: AllocationID) -> StoredAllocation {
        StoredAllocation(
            allocation: Allocation(
                id: id, tenant: "tenant", command: ["/bin/true"], environment: [:], image: nil,
                resources: Resources(), timeoutMs: nil),
            phase: .starting)
    }

    static func inode(_ path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    @Test func aDeliveredAllocationsFilesAreEmptiedAndReusedByTheNextOne() throws {
        let dir = TemporaryDirectory()
        let store = try AllocationStore(directory: dir.path)
        var first = Self.allocation("a.0.1")
        try store.create(first)
        first.phase = .ended
        first.report = AllocationReport(id: "a.0.1", state: .exited, exitCode: 0)
        try store.save(first)
        try "exit 0\n".write(toFile: store.statusFile("a.0.1"), atomically: false, encoding: .utf8)
        let inodes = Set(
            [Self.inode(dir.path + "/a.0.1.json"), Self.inode(store.statusFile("a.0.1"))].compactMap { $0 })
        #expect(inodes.count == 2)

        store.remove("a.0.1")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/a.0.1.json"))
        #expect(store.spares.count == 2)

        try store.create(Self.allocation("a.0.2"))
        let reused = Set(
            [Self.inode(dir.path + "/a.0.2.json"), Self.inode(store.statusFile("a.0.2"))].compactMap { $0 })
        #expect(reused == inodes, "the second allocation's files are the first one's inodes")
        #expect(store.spares.count == 0)
        let record = try String(contentsOfFile: dir.path + "/a.0.2.json", encoding: .utf8)
        #expect(record.split(separator: "\n").count == 1, "nothing of the first allocation is left: \(record)")
        #expect(try String(contentsOfFile: store.statusFile("a.0.2"), encoding: .utf8).isEmpty)
        let loaded = store.loadAll()
        #expect(loaded.errors.isEmpty)
        #expect(loaded.records.map(\.allocation.id) == ["a.0.2"])
    }

    @Test func aRestartedAgentFindsTheSparesAndSkipsARecordThatWasNeverWritten() throws {
        let dir = TemporaryDirectory()
        do {
            let store = try AllocationStore(directory: dir.path)
            try store.create(Self.allocation("b.0.1"))
            try "exit 0\n".write(toFile: store.statusFile("b.0.1"), atomically: false, encoding: .utf8)
            store.remove("b.0.1")
        }
        let store = try AllocationStore(directory: dir.path)
        #expect(store.spares.count == 2)
        // An agent that stopped between taking a spare and writing the record leaves an empty file.
        store.spares.take(as: dir.path + "/b.0.2.json")
        let loaded = store.loadAll()
        #expect(loaded.records.isEmpty)
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/b.0.2.json"))
        #expect(store.spares.count == 2)
    }

    @Test func sparesBeyondTheLimitAreDeleted() throws {
        let dir = TemporaryDirectory()
        let store = try AllocationStore(directory: dir.path, spareLimit: 1)
        try store.create(Self.allocation("c.0.1"))
        store.remove("c.0.1")  // record kept; the status file was never written, so there is nothing to keep
        try store.create(Self.allocation("c.0.2"))
        try store.create(Self.allocation("c.0.3"))
        store.remove("c.0.2")
        store.remove("c.0.3")
        #expect(store.spares.count == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "spare" }
        #expect(left.isEmpty, "\(left)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/spare").count == 1)
    }

    /// What a launched task's record looks like (made by the Sandbox from a real cgroup otherwise).
    static func adoption(_ id: String) throws -> AdoptionRecord {
        let json = """
            {"id": "\(id)", "pid": 4242, "startTime": 99, "cgroup": "corral.slice/\(id)", "legacyPaths": {},
             "workDirectory": "/run/corral/work/\(id)", "ownsWorkDirectory": true, "statusFile": "/tmp/\(id).status",
             "killGraceSeconds": 5}
            """
        return try JSONDecoder().decode(AdoptionRecord.self, from: Data(json.utf8))
    }

    @Test func changesAreAppendedWithoutTheAllocationAndLoadOverTheWholeRecord() throws {
        let dir = TemporaryDirectory()
        let store = try AllocationStore(directory: dir.path)
        var stored = Self.allocation("d.0.1")
        try store.create(stored)
        stored.phase = .running
        stored.adoption = try Self.adoption("d.0.1")
        try store.save(stored)
        let running = stored
        stored.phase = .ended
        stored.report = AllocationReport(id: "d.0.1", state: .exited, exitCode: 3)
        try store.save(stored)

        let path = dir.path + "/d.0.1.json"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].contains("\"allocation\""), "the first line is the whole record")
        #expect(lines.dropFirst().allSatisfy { !$0.contains("\"allocation\"") }, "changes leave the allocation out")
        #expect(store.loadAll().records == [stored])

        // A change torn by a power loss: the one before it holds.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"phase":"ended","rep"#.utf8))
        try handle.close()
        let loaded = store.loadAll()
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        #expect(loaded.records.count == 1)
        #expect(loaded.records.first?.report == stored.report, "the last whole change is the ended one")

        // A file of whole records only: the last one is the record.
        let whole = [Self.allocation("d.0.2"), running].map {
            String(decoding: try! JSONEncoder().encode($0), as: UTF8.self)
        }
        try (whole.joined(separator: "\n") + "\n").write(
            toFile: dir.path + "/d.0.2.json", atomically: false, encoding: .utf8)
        #expect(store.loadAll().records.last == running)
    }
}
