import AsyncHTTPClient
import CorralProtocol
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The schedulers a client was given (`--scheduler A,B,C`, `CORRAL_ADDR`), and the one it uses now.
final class SchedulerAddresses: Sendable {
    let all: [String]
    private let index = Mutex(0)

    init(_ list: String) {
        let parsed = list.split(separator: ",").map { address in
            let trimmed = address.trimmingCharacters(in: .whitespaces)
            return trimmed.hasSuffix("/") ? String(trimmed.dropLast()) : trimmed
        }.filter { !$0.isEmpty }
        all = parsed.isEmpty ? [list] : parsed
    }

    var current: String { all[index.withLock { $0 }] }

    /// Moves on from `failed` to the next address (unless another call has already moved on).
    func advance(from failed: String) {
        index.withLock { index in
            if all[index] == failed { index = (index + 1) % all.count }
        }
    }

    /// Uses `leader` from now on; false when it is not one of the addresses given.
    func follow(_ leader: String) -> Bool {
        let leader = leader.hasSuffix("/") ? String(leader.dropLast()) : leader
        guard let position = all.firstIndex(of: leader) else { return false }
        index.withLock { $0 = position }
        return true
    }
}

extension SchedulerClient {
    /// How long a call keeps looking for a leader (a failover takes about one lease TTL, 5 s by default).
    static let failoverPatience: Duration = .seconds(15)

    /// One request, sent to the scheduler that leads: a follower's 307 is followed to the leader it names,
    /// and an address that cannot be reached, or answers that no one leads, is left for the next. A request
    /// that may have reached a scheduler is sent again only when it changes nothing (a GET), or when the
    /// answer says it was not applied (307, 503 `no_leader`/`not_leader`/`shutting_down`).
    func exchange(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, timeout: TimeAmount = .seconds(30),
        limit: Int = 64 << 20
    ) async throws -> (HTTPClientResponse, ByteBuffer) {
        // Patience runs from the first failure, not from the start of a long-poll.
        var deadline: ContinuousClock.Instant?
        func patient() -> Bool {
            let now = ContinuousClock.now
            if deadline == nil { deadline = now + Self.failoverPatience }
            return now < deadline!
        }
        // Each round over every address pauses once: an election takes a lease's TTL, and schedulers that
        // name each other (one still believing a dead leader leads) must not spin the client.
        var round = 0
        func pace() async throws {
            round += 1
            if round % schedulers.all.count == 0 { try await Task.sleep(for: .milliseconds(250)) }
        }
        while true {
            let base = schedulers.current
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            let response: HTTPClientResponse
            let bytes: ByteBuffer
            do {
                response = try await http.execute(request, timeout: timeout)
                bytes = try await response.body.collect(upTo: limit)
            } catch {
                schedulers.advance(from: base)
                let again = Self.neverSent(error) || method == .GET
                guard again, schedulers.all.count > 1, patient() else { throw error }
                try await pace()
                continue
            }
            if response.status == .temporaryRedirect, let leader = response.headers.first(name: "Corral-Leader") {
                guard schedulers.follow(leader) else {
                    throw APIError(
                        status: 502, code: "unknown_leader",
                        message:
                            "scheduler \(base) names \(leader) as the leader, which is not among the addresses given "
                            + "(--scheduler, CORRAL_ADDR): list every scheduler of the cluster")
                }
                guard patient() else { return (response, bytes) }
                try await pace()
                continue
            }
            if response.status == .serviceUnavailable,
                let code = APIError.decoded(status: 503, from: Data(bytes.readableBytesView))?.code,
                ["no_leader", "not_leader", "shutting_down"].contains(code), patient()
            {
                schedulers.advance(from: base)
                try await pace()
                continue
            }
            return (response, bytes)
        }
    }

    /// Errors raised before a byte of the request left: another scheduler may take it.
    static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        let text = String(describing: error)
        return text.contains("connectTimeout") || text.contains("Connection refused")
    }
}
