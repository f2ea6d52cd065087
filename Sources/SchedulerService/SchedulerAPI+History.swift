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
            guard let presented = request.headers[peerHeader],
                Secrets.equal(presented, Self.peerToken(relayKey))
            else { throw APIError.forbidden("the history is copied by the cluster's schedulers only") }
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

/// The header a scheduler copying the history presents.
let peerHeader = HTTPField.Name("Corral-Peer")!
