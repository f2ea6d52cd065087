import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Scheduler
import SchedulerService
import Store
import Testing

/// The routes of a highly available cluster, through the router: a follower's redirect, a candidate's
/// 503, and the history a follower copies, which only the cluster's schedulers may read.
@Suite struct LeaderRouteTests {
    static func app(role: Role, key: SymmetricKey = SymmetricKey(size: .bits256)) async throws
        -> some ApplicationProtocol
    {
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: try UsageHistory(path: nil),
            configuration: SchedulerCore.Configuration(), logger: Logger(label: "test"))
        try await scheduler.start()
        let api = SchedulerAPI(
            scheduler: scheduler, config: RouterTests.config, relayKey: key, role: RoleState(role),
            advertise: "http://127.0.0.1:1")
        return Application(router: api.router())
    }

    @Test func aFollowerRedirectsEveryRouteToTheLeaderAndACandidateAnswers503() async throws {
        try await Self.app(role: .following(leader: "http://10.0.0.1:4646")).test(.router) { client in
            try await client.execute(uri: "/v1/jobs?state=running", method: .get, headers: RouterTests.auth("x")) {
                #expect($0.status == .temporaryRedirect)
                #expect($0.headers[.location] == "http://10.0.0.1:4646/v1/jobs?state=running")
                #expect(RouterTests.errorCode($0) == "not_leader")
            }
            try await client.execute(uri: "/v1/leader", method: .get) {
                #expect($0.status == .ok)
                #expect(String(buffer: $0.body).contains(#""role":"follower""#))
            }
            // Each scheduler is scraped on its own: a follower serves its metrics and says it does not lead.
            try await client.execute(
                uri: "/metrics", method: .get, headers: RouterTests.auth("admin-token-0123456789")
            ) {
                #expect($0.status == .ok)
                #expect(String(buffer: $0.body).contains("corral_leader 0"))
            }
        }
        try await Self.app(role: .noLeader).test(.router) { client in
            try await client.execute(uri: "/v1/agents/register", method: .post) {
                #expect($0.status == .serviceUnavailable)
                #expect(RouterTests.errorCode($0) == "no_leader")
            }
        }
    }

    @Test func theHistoryIsOpenOnlyToTheClustersSchedulers() async throws {
        let key = SymmetricKey(size: .bits256)
        try await Self.app(role: .leading, key: key).test(.router) { client in
            let path = "/v1/history/usage/minute?after=-1"
            try await client.execute(uri: path, method: .get, headers: RouterTests.auth("admin-token-0123456789")) {
                #expect($0.status == .forbidden, "the admin token is not a scheduler's")
            }
            let forged = HMAC<SHA256>.authenticationCode(
                for: Array("corral-peer:history".utf8), using: SymmetricKey(size: .bits256))
            try await client.execute(
                uri: path, method: .get, headers: [HTTPField.Name("Corral-Peer")!: Data(forged).hex]
            ) { #expect($0.status == .forbidden) }
            let genuine = HMAC<SHA256>.authenticationCode(for: Array("corral-peer:history".utf8), using: key)
            try await client.execute(
                uri: path, method: .get, headers: [HTTPField.Name("Corral-Peer")!: Data(genuine).hex]
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/v1/history/nodes/minute", method: .get,
                headers: [HTTPField.Name("Corral-Peer")!: Data(genuine).hex]
            ) { #expect($0.status == .notFound) }
        }
    }
}

extension Data {
    fileprivate var hex: String { map { String(format: "%02x", $0) }.joined() }
}
