import CorralModel
import CorralProtocol
import Foundation
import TestSupport
import Testing

/// Each identifier has one format and one parser, and the two agree. (Texts go through `parse` so that
/// the failable parsers run, not the test-only literal conformances.)
@Suite struct IdentifierTests {
    static func parse<T>(_ text: String, _ parser: (String) -> T?) -> T? { parser(text) }

    @Test func anAllocationIdRoundTripsThroughItsOneFormat() throws {
        let id = AllocationID(task: TaskID(job: try #require(Self.parse("j1k2.x", JobID.init)), index: 3), attempt: 2)
        #expect(id.description == "j1k2.x.3.2")
        #expect(AllocationID(id.description) == id)
        let json = try JSONEncoder().encode(id)
        #expect(String(decoding: json, as: UTF8.self) == #""j1k2.x.3.2""#)
        #expect(try JSONDecoder().decode(AllocationID.self, from: json) == id)
    }

    @Test(arguments: ["", "j1", "j1.0", "j1.0.0", "j1.-1.1", "j1.0.+1", "j1.01.1", "../x.0.1", "j 1.0.1", "j1.0.1x"])
    func aTextThatIsNoAllocationIdDoesNotParse(_ text: String) {
        #expect(AllocationID(text) == nil)
    }

    @Test func jobAndNodeIdsFollowTheNameRule() throws {
        #expect(Self.parse("j-1_a.b", JobID.init) != nil)
        #expect(Self.parse("node-7", NodeID.init) != nil)
        for bad in ["", ".", "..", "a/b", "a b", String(repeating: "x", count: 64)] {
            #expect(JobID(bad) == nil)
            #expect(NodeID(bad) == nil)
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(NodeID.self, from: Data(#""a/b""#.utf8)) }
    }

    @Test func generatedJobIdsParseAndSortBySubmissionTime() throws {
        let early = JobID.generate(millisecondsSinceEpoch: 1_700_000_000_000)
        let late = JobID.generate(millisecondsSinceEpoch: 1_700_000_000_001)
        #expect(JobID(early.rawValue) == early)
        #expect(early < late)
    }

    @Test func anAllocationTravelsWithItsTaskAndAttemptSpelledOut() throws {
        let allocation = Allocation(
            id: try #require(Self.parse("j1.4.2", AllocationID.init)), tenant: "t", command: ["/bin/true"],
            resources: .init())
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(allocation)) as? [String: Any])
        #expect(object["id"] as? String == "j1.4.2")
        #expect(object["attempt"] as? Int == 2)
        #expect((object["task"] as? [String: Any])?["index"] as? Int == 4)
        #expect(try JSONDecoder().decode(Allocation.self, from: JSONEncoder().encode(allocation)) == allocation)
    }
}

extension IdentifierTests {
    @Test func jobAndNodeIdsTravelAsTheirText() throws {
        let job = try #require(Self.parse("j1", JobID.init))
        let node = try #require(Self.parse("node-1", NodeID.init))
        #expect(String(decoding: try JSONEncoder().encode(job), as: UTF8.self) == #""j1""#)
        #expect(String(decoding: try JSONEncoder().encode(node), as: UTF8.self) == #""node-1""#)
        #expect(try JSONDecoder().decode(NodeID.self, from: Data(#""node-1""#.utf8)) == node)
    }
}
