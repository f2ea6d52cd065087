import CorralProtocol
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Scheduler
import Store
import Synchronization

/// Who serves the API in a highly available cluster, as this scheduler sees it: itself alone
/// (standalone, SQLite), itself as the elected leader, another scheduler (it redirects there), or none
/// yet (it answers 503 `no_leader`).
public enum Role: Sendable, Equatable, CustomStringConvertible {
    case standalone
    case leading
    case following(leader: String)
    case noLeader

    public var description: String {
        switch self {
        case .standalone: "standalone"
        case .leading: "leader"
        case .following: "follower"
        case .noLeader: "candidate"
        }
    }

    /// Whether this scheduler answers API requests itself.
    public var serves: Bool { self == .standalone || self == .leading }
}

/// The role, read on every request without a hop to an actor.
public final class RoleState: Sendable {
    private let role: Mutex<Role>
    public init(_ role: Role) { self.role = Mutex(role) }
    public var current: Role { role.withLock { $0 } }
    func set(_ new: Role) { role.withLock { $0 = new } }
}

/// Runs for election on etcd, again and again: a candidate follows whoever leads (answering with
/// redirects to its address); once it leads, it loads the cluster's state through a store fenced by its
/// leader key and runs the scheduler until its lease is, or may be, gone; then it stops at once and runs
/// again. A cancelled loop steps down by revoking its lease, so that the next candidate leads at once.
struct LeadershipLoop: Sendable {
    let election: EtcdElection
    let store: EtcdStore
    let scheduler: Scheduler
    let role: RoleState
    let ttl: Int
    /// This scheduler's address as clients reach it, given to them by followers.
    let advertise: String
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            do {
                try await term()
            } catch {
                logger.error("election failed: trying again", metadata: ["error": "\(error)"])
                role.set(.noLeader)
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One lease: candidacy, perhaps a lead, and its end.
    func term() async throws {
        let sent = ContinuousClock.now
        let lease = try await election.grantLease(ttl: ttl)
        let keeper = EtcdLeaseKeeper(election: election, lease: lease, ttl: ttl, granted: sent)
        let renewing = Task { await keeper.run() }
        defer { renewing.cancel() }
        // However the term ends, its lease is revoked: the key goes at once, not after the TTL.
        do {
            let me = try await election.nominate(lease: lease, value: advertise)
            if try await awaitTurn(me, keeper) { try await lead(me, keeper) }
        } catch {
            await stepDown(lease)
            throw error
        }
        await stepDown(lease)
    }

    /// Revokes the lease even from a cancelled task (a shutdown), so that the next candidate need not wait
    /// out the TTL.
    func stepDown(_ lease: Int64) async {
        await Task { [election] in await election.revoke(lease) }.value
    }

    /// Follows the leader until this candidate is the one with the lowest create revision; false when the
    /// lease ends first or the loop is cancelled.
    func awaitTurn(_ me: EtcdElection.Candidate, _ keeper: EtcdLeaseKeeper) async throws -> Bool {
        while keeper.holds && !Task.isCancelled {
            // An unreachable etcd leaves the last answer standing; the lease decides.
            if let leader = try? await election.leader() {
                if leader.key == me.key { return keeper.holds }
                let address = String(decoding: leader.value, as: UTF8.self)
                if role.current != .following(leader: address) {
                    logger.info("following the leader", metadata: ["leader": "\(address)"])
                }
                role.set(.following(leader: address))
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// Leads while the lease surely holds: the scheduler runs over the fenced store, then is deposed.
    func lead(_ me: EtcdElection.Candidate, _ keeper: EtcdLeaseKeeper) async throws {
        role.set(.noLeader)
        do {
            try await scheduler.lead(store: FencedStore(store, leaderKey: me.key, epoch: me.epoch))
        } catch {
            await scheduler.depose()
            throw error
        }
        role.set(.leading)
        logger.notice("leading the cluster", metadata: ["epoch": "\(me.epoch)", "address": "\(advertise)"])
        let loop = Task { await scheduler.run() }
        while keeper.holds && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
        role.set(.noLeader)
        await scheduler.depose()
        loop.cancel()
        await loop.value
        logger.notice(
            Task.isCancelled ? "stepped down" : "lost the lead: the lease may have ended",
            metadata: ["epoch": "\(me.epoch)"])
    }
}

/// Sends every API request but `/v1/leader` and `/metrics` to the leader: a follower answers 307 with the leader's address (and the same
/// path), a candidate 503 `no_leader`. Comes before authentication: a follower holds no state to check
/// credentials against, and the leader checks them anyway.
struct LeaderMiddleware: RouterMiddleware {
    typealias Context = SchedulerRequestContext
    let role: RoleState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Every scheduler says who leads, and serves its own metrics (each is scraped on its own).
        if request.uri.path == "/v1/leader" || request.uri.path == "/metrics" {
            return try await next(request, context)
        }
        switch role.current {
        case .standalone, .leading:
            return try await next(request, context)
        case .following(let leader):
            var response = APIError(
                status: 307, code: "not_leader", message: "this scheduler follows: the leader is \(leader)"
            ).response()
            response.headers[.location] = leader + request.uri.description
            response.headers[leaderHeader] = leader
            return response
        case .noLeader:
            throw APIError(
                status: 503, code: "no_leader", message: "no scheduler leads the cluster right now: retry shortly")
        }
    }
}

/// The header of a redirect that names the leader's base address.
let leaderHeader = HTTPField.Name("Corral-Leader")!
