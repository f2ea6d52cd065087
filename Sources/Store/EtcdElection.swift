import Foundation
import Synchronization

/// Leader election on etcd the way its concurrency package does it: every candidate puts a key under
/// `election/` bound to its own lease; the key with the lowest create revision leads, and that revision
/// is the leader's epoch, the fence its writes compare. A candidate whose lease ends (it stopped renewing,
/// or it revoked) loses its key, and the next one in line leads.
public struct EtcdElection: Sendable {
    let store: EtcdStore
    /// Where candidates' keys live, under the store's prefix.
    public let directory: String

    public init(store: EtcdStore, directory: String = "election/") {
        self.store = store
        self.directory = directory
    }

    /// A candidate: its key, the revision it was created at, and the lease that keeps it.
    public struct Candidate: Sendable, Equatable {
        public var key: String
        public var epoch: Revision
        public var lease: Int64
    }

    /// A new lease of `ttl` seconds (etcd raises TTLs below its minimum).
    public func grantLease(ttl: Int) async throws -> Int64 {
        let response = try await store.gateway.call(
            "/v3/lease/grant", ["TTL": String(ttl)], as: EtcdGateway.LeaseResponse.self)
        guard let id = Int64(response.ID ?? "") else { throw StoreError.unavailable("etcd granted no lease id") }
        return id
    }

    /// Renews `lease` once; its seconds to live, or 0 when it is gone.
    public func keepAlive(_ lease: Int64) async throws -> Int {
        let response = try await store.gateway.call(
            "/v3/lease/keepalive", ["ID": String(lease)], as: EtcdGateway.KeepAliveResponse.self)
        return Int(response.result?.TTL ?? "") ?? 0
    }

    /// Ends `lease` and every key bound to it (a candidate stepping down); failures are left to the TTL.
    public func revoke(_ lease: Int64) async {
        _ = try? await store.gateway.call("/v3/lease/revoke", ["ID": String(lease)], as: EtcdGateway.Empty.self)
    }

    /// Enters the race: this candidate's key, bound to `lease`, holding `value` (its address).
    public func nominate(lease: Int64, value: String) async throws -> Candidate {
        let key = directory + String(UInt64(bitPattern: lease), radix: 16)
        let body: [String: Any] = [
            "compare": [store.compare(.absent(key))],
            "success": [
                [
                    "request_put": [
                        "key": store.encode(store.prefix + key), "value": store.encode(value), "lease": String(lease),
                    ]
                ]
            ],
        ]
        let response = try await store.gateway.call("/v3/kv/txn", body, as: EtcdGateway.TxnResponse.self)
        guard response.succeeded == true else { throw StoreError.unavailable("etcd: candidate key \(key) exists") }
        return Candidate(key: key, epoch: response.header?.rev ?? .zero, lease: lease)
    }

    /// The candidate that leads now (lowest create revision), if any: its key, epoch and value.
    public func leader() async throws -> KeyValue? {
        try await store.list(prefix: directory, limit: nil).items.min { $0.createRevision < $1.createRevision }
    }
}

/// Keeps a lease alive by renewing it every third of its TTL, and knows, by this process's own clock,
/// until when it surely holds: the send time of the last renewal etcd confirmed, plus the TTL it granted,
/// less a fifth of it. etcd's own deadline runs from when it received that renewal, later, so this side
/// gives up first, with the margin to spare for a slow process or a clock that runs a little fast.
public final class EtcdLeaseKeeper: Sendable {
    let election: EtcdElection
    public let lease: Int64
    let ttl: Int
    private let validUntil: Mutex<ContinuousClock.Instant>

    /// `granted`: when the grant request was sent.
    public init(election: EtcdElection, lease: Int64, ttl: Int, granted: ContinuousClock.Instant) {
        self.election = election
        self.lease = lease
        self.ttl = ttl
        validUntil = Mutex(granted + Self.held(ttl))
    }

    /// How long a lease of `ttl` seconds is counted on from a renewal's send: four fifths of it.
    static func held(_ ttl: Int) -> Duration { .milliseconds(ttl * 800) }

    /// Whether the lease is surely still held.
    public var holds: Bool { ContinuousClock.now < validUntil.withLock { $0 } }

    /// Renews until cancelled or until the lease is gone; returns when it is (or may be) lost.
    public func run() async {
        while !Task.isCancelled && holds {
            let sent = ContinuousClock.now
            do {
                let remaining = try await election.keepAlive(lease)
                guard remaining > 0 else {
                    validUntil.withLock { $0 = sent }
                    return
                }
                validUntil.withLock { $0 = max($0, sent + Self.held(remaining)) }
            } catch {
                // Unreachable etcd: keep trying until the lease would be gone.
            }
            let pause = min(Duration.milliseconds(ttl * 1000 / 3), validUntil.withLock { $0 } - ContinuousClock.now)
            try? await Task.sleep(for: max(pause, .milliseconds(50)))
        }
    }
}
