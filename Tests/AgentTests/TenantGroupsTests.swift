import Foundation
import Logging
import Sandbox
import TestSupport
import Testing

@testable import Agent

/// One gid per tenant, never shared by two tenants, kept across agent restarts, outside the task uids.
@Suite struct TenantGroupsTests {
    static let range = IdentityRange(first: 0x7001_0000, last: 0x7001_000F)

    @Test func eachTenantGetsItsOwnGidAndKeepsItAcrossRestarts() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/tenant-groups.json"
        let logger = Logger(label: "test")
        let groups = try TenantGroups(path: path, range: Self.range, taskUIDs: .default, logger: logger)
        let a = try #require(groups.gid(for: "a"))
        let b = try #require(groups.gid(for: "b"))
        #expect(a != b && Self.range.contains(a) && Self.range.contains(b))
        #expect(groups.gid(for: "a") == a)
        let restarted = try TenantGroups(path: path, range: Self.range, taskUIDs: .default, logger: logger)
        #expect(restarted.gid(for: "b") == b && restarted.gid(for: "a") == a)
        for index in 0..<14 { #expect(restarted.gid(for: "t\(index)") != nil) }
        #expect(restarted.gid(for: "one-too-many") == nil, "a full range gives no gid rather than a shared one")
    }

    @Test func aRangeOverlappingTheTaskUIDsIsRefused() {
        #expect(throws: SandboxError.self) {
            _ = try TenantGroups(
                path: "/nonexistent", range: IdentityRange(first: 0x7000_FFF0, last: 0x7001_0010),
                taskUIDs: .default, logger: Logger(label: "test"))
        }
    }
}
