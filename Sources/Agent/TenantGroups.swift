import Foundation
import Logging
import Sandbox
import Synchronization
import SystemSupport

/// One supplementary group per tenant that ran on this node, shared by all of that tenant's tasks and by
/// no other tenant's (shared volumes are granted to it). The map is kept in the agent's data directory so
/// a tenant keeps its gid across restarts; a gid is never given to a second tenant.
public final class TenantGroups: Sendable {
    public static let defaultRange = IdentityRange(first: 0x7001_0000, last: 0x7001_FFFF)

    let range: IdentityRange
    private let path: String
    private let assigned: Mutex<[String: UInt32]>
    private let logger: Logger

    init(path: String, range: IdentityRange, taskUIDs: IdentityRange, logger: Logger) throws {
        guard range.last < taskUIDs.first || range.first > taskUIDs.last else {
            throw SandboxError(
                .configuration, "--tenant-gids \(range) overlaps the task uids \(taskUIDs): each task's gid is its uid")
        }
        self.range = range
        self.path = path
        self.logger = logger
        var map: [String: UInt32] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            map = (try? JSONDecoder().decode([String: UInt32].self, from: data)) ?? [:]
            map = map.filter { range.contains($0.value) }
        }
        assigned = Mutex(map)
    }

    /// The tenant's gid, assigned (and saved) on first use; nil once every gid of the range is taken.
    func gid(for tenant: String) -> UInt32? {
        assigned.withLock { map -> UInt32? in
            if let gid = map[tenant] { return gid }
            let used = Set(map.values)
            guard let free = (range.first...range.last).lazy.first(where: { !used.contains($0) }) else {
                logger.warning("no tenant gid left", metadata: ["tenant": "\(tenant)", "range": "\(range)"])
                return nil
            }
            map[tenant] = free
            do { try JSONEncoder().encode(map).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                logger.error("cannot save the tenant groups", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            return free
        }
    }
}
