import CorralModel
import CorralProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Scheduler
import Store

extension SchedulerAPI {
    /// The most rows one page of a history copy carries.
    static let historyPage = 5000

    /// What a follower presents to the leader for its history: an HMAC of the cluster's relay key, which
    /// only the schedulers hold (a configuration may keep only tokens' digests, so not the admin token).
    static func peerToken(_ key: SymmetricKey) -> String {
        Secrets.hex(HMAC<SHA256>.authenticationCode(for: Array("corral-peer:history".utf8), using: key))
    }

    /// `GET /v1/history/{family}/{resolution}?after=TIME&key=KEY`: one page of the downsampled usage
    /// history in (time, key) order, for another scheduler of the cluster (`Corral-Peer` header).
    func addHistoryRoutes(_ router: Router<SchedulerRequestContext>) {
        router.get("/v1/history/{family}/{resolution}") { request, context in
            try requirePeer(request)
            let family = context.parameters.get("family") ?? ""
            guard let resolution = UsageHistory.Resolution(rawValue: context.parameters.get("resolution") ?? ""),
                UsageHistory.copied.contains(where: { $0.family == family && $0.resolution == resolution })
            else { throw APIError.notFound("history table \(family)/\(context.parameters.get("resolution") ?? "")") }
            let query = request.uri.queryParameters
            guard let after = Double(query.get("after") ?? "-1"), after.isFinite else {
                throw APIError.badRequest(
                    "after: must be a time in seconds",
                    problems: [ValueError(field: "after", message: "must be a number")])
            }
            let rows =
                try await scheduler.history?.rows(
                    family: family, resolution: resolution, after: after, key: query.get("key") ?? "",
                    limit: Self.historyPage) ?? []
            return try json(rows)
        }
    }
}

extension SchedulerAPI {
    /// `GET /v1/checkpoints` (every checkpoint the leader keeps: name, bytes, modified) and
    /// `GET /v1/checkpoints/{name}` (one), for another scheduler of the cluster (`Corral-Peer` header).
    func addCheckpointCopyRoutes(_ router: Router<SchedulerRequestContext>) {
        router.get("/v1/checkpoints") { request, _ in
            try requirePeer(request)
            let entries = try scheduler.checkpoints?.list() ?? []
            return try json(entries.map { CheckpointEntry(name: $0.name, bytes: $0.bytes, modified: $0.modified) })
        }
        router.get("/v1/checkpoints/{name}") { request, context in
            try requirePeer(request)
            let name = context.parameters.get("name") ?? ""
            guard CheckpointStore.isPlain(name), let bytes = scheduler.checkpoints?.get(name) else {
                throw APIError(status: 404, code: "no_checkpoint", message: "no checkpoint \(name)")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    func requirePeer(_ request: Request) throws {
        guard let presented = request.headers[peerHeader], Secrets.equal(presented, Self.peerToken(relayKey)) else {
            throw APIError.forbidden("only the cluster's schedulers copy the history and the checkpoints")
        }
    }
}

/// One checkpoint a leader keeps, as a follower's copy lists it.
struct CheckpointEntry: Codable, Sendable, Equatable {
    var name: String
    var bytes: UInt64
    var modified: Double
}

/// The header a scheduler copying the history presents.
let peerHeader = HTTPField.Name("Corral-Peer")!
