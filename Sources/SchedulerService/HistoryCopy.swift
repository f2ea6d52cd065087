import AsyncHTTPClient
import CorralModel
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Store

/// A follower's copy of the leader's downsampled usage history and tasks' checkpoints, so that after a
/// failover the new leader's forecasts and capacity reports go on with at most one interval missing, and
/// tasks resume from checkpoints at most one interval old. Every interval, for each copied table, it pulls
/// the rows from its own newest bucket on (that bucket may have grown since), page by page, and writes
/// them over its own; and it fetches each checkpoint whose size or time differs from its own copy.
struct HistoryCopy: Sendable {
    let history: UsageHistory
    let checkpoints: CheckpointStore?
    let role: RoleState
    let relayKey: SymmetricKey
    let http: HTTPClient
    let interval: Duration
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard case .following(let leader) = role.current else { continue }
            do {
                let rows = try await copy(from: leader)
                let files = try await copyCheckpoints(from: leader)
                logger.debug(
                    "copied the leader's history and checkpoints",
                    metadata: ["rows": "\(rows)", "checkpoints": "\(files)", "leader": "\(leader)"])
            } catch {
                logger.warning(
                    "cannot copy the leader's history", metadata: ["leader": "\(leader)", "error": "\(error)"])
            }
        }
    }

    /// Pulls every copied table from `leader`; the rows written.
    func copy(from leader: String) async throws -> Int {
        var total = 0
        for (family, resolution) in UsageHistory.copied {
            // Keys are never empty: (newest, "") takes in every row of the newest bucket again.
            var after = try await history.newest(family: family, resolution: resolution) ?? -1
            var key = ""
            while !Task.isCancelled {
                let rows = try await page(leader, family, resolution, after: after, key: key)
                try await history.replace(family: family, resolution: resolution, rows)
                total += rows.count
                guard rows.count >= SchedulerAPI.historyPage, let last = rows.last else { break }
                after = last.time
                key = last.key
            }
        }
        return total
    }

    /// Fetches the leader's checkpoints that differ from this scheduler's, and drops those it no longer
    /// has; how many were fetched.
    func copyCheckpoints(from leader: String) async throws -> Int {
        guard let checkpoints else { return 0 }
        let theirs = try JSONDecoder().decode(
            [CheckpointEntry].self,
            from: Data(try await get(leader + "/v1/checkpoints", limit: 64 << 20).readableBytesView))
        let ours = Dictionary(
            try checkpoints.list().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var fetched = 0
        for entry in theirs where CheckpointStore.isPlain(entry.name) {
            if let mine = ours[entry.name], mine.bytes == entry.bytes, abs(mine.modified - entry.modified) < 0.001 {
                continue
            }
            let bytes = try await get(
                leader + "/v1/checkpoints/\(entry.name)", limit: Int(JobSpec.maxCheckpointLimit) + 4096)
            try checkpoints.put(entry.name, Array(bytes.readableBytesView), modified: entry.modified)
            fetched += 1
        }
        let kept = Set(theirs.map { $0.name })
        for name in ours.keys where !kept.contains(name) { checkpoints.remove(name) }
        return fetched
    }

    /// A peer GET's body.
    func get(_ url: String, limit: Int) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Corral-Peer", value: SchedulerAPI.peerToken(relayKey))
        let response = try await http.execute(request, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: limit)
        guard response.status == .ok else { throw HistoryCopyError(message: "\(url) answered \(response.status.code)") }
        return body
    }

    func page(_ leader: String, _ family: String, _ resolution: UsageHistory.Resolution, after: Double, key: String)
        async throws -> [UsageHistory.CopiedRow]
    {
        var components = URLComponents(string: leader + "/v1/history/\(family)/\(resolution.rawValue)")
        components?.queryItems = [.init(name: "after", value: "\(after)"), .init(name: "key", value: key)]
        guard let url = components?.string else { throw HistoryCopyError(message: "bad leader address \(leader)") }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Corral-Peer", value: SchedulerAPI.peerToken(relayKey))
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw HistoryCopyError(message: "\(url) answered \(response.status.code)")
        }
        return try JSONDecoder().decode([UsageHistory.CopiedRow].self, from: Data(body.readableBytesView))
    }
}
