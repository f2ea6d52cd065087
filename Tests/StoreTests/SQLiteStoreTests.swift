import Foundation
import Store
import TestSupport
import Testing

@Suite struct SQLiteStoreTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func committedTransactionsSurviveReopening() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        do {
            let store = try SQLiteStore(path: path)
            for i in 0..<20 { _ = try await store.txn(then: [.put("jobs/\(i)", Self.bytes("\(i)"))]) }
        }
        let reopened = try SQLiteStore(path: path)
        let (items, revision) = try await reopened.list(prefix: "jobs/", limit: nil)
        #expect(items.count == 20)
        #expect(revision == Revision(20))
        let next = try await reopened.txn(then: [.put("jobs/x", [])])
        #expect(next.revision == Revision(21), "revisions continue after a restart")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
