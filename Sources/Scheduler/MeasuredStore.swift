import CorralModel
import CorralProtocol
import Store
import Synchronization

/// A store whose transactions are timed into a histogram (`corral_store_transaction_seconds`): the
/// scheduler wraps whatever store it is given, SQLite or a leader's fenced etcd.
public struct MeasuredStore: StateStore {
    public let base: any StateStore
    let latency: TransactionLatency

    public init(_ base: any StateStore, latency: TransactionLatency) {
        self.base = base
        self.latency = latency
    }

    public func get(_ key: String) async throws -> KeyValue? { try await base.get(key) }

    public func list(prefix: String, limit: Int?) async throws -> (items: [KeyValue], revision: Revision) {
        try await base.list(prefix: prefix, limit: limit)
    }

    public func txn(if compares: [Compare], then ops: [Op], else otherwise: [Op]) async throws -> TxnResult {
        let start = ContinuousClock.now
        defer { latency.observe(ContinuousClock.now - start) }
        return try await base.txn(if: compares, then: ops, else: otherwise)
    }

    public func watch(prefix: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error> {
        base.watch(prefix: prefix, after: after)
    }

    public func compact(upTo revision: Revision) async throws { try await base.compact(upTo: revision) }

    public var limits: TransactionLimits { base.limits }
}

/// Store transaction times, shared by every store the scheduler has led with.
public final class TransactionLatency: Sendable {
    private let histogram = Mutex(LatencyHistogram())

    public init() {}

    func observe(_ duration: Duration) {
        histogram.withLock { $0.observe(duration.inSeconds) }
    }

    public var snapshot: LatencyHistogram { histogram.withLock { $0 } }
}
