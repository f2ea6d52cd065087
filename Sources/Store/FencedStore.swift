/// A leader's view of a store: every transaction also compares the leader key's create revision (the
/// fence), so a scheduler that has lost its lease, and not noticed yet, changes nothing. A transaction
/// whose fence fails throws `StoreError.notLeader`; one whose own compares fail returns as usual.
public struct FencedStore: StateStore {
    public let base: any StateStore
    public let fence: Compare
    let leaderKey: String

    /// `leaderKey` created at `epoch`: the key this process's election holds.
    public init(_ base: any StateStore, leaderKey: String, epoch: Revision) {
        self.base = base
        self.leaderKey = leaderKey
        fence = .createRevision(leaderKey, epoch)
    }

    public func get(_ key: String) async throws -> KeyValue? { try await base.get(key) }

    public func list(prefix: String, limit: Int?) async throws -> (items: [KeyValue], revision: Revision) {
        try await base.list(prefix: prefix, limit: limit)
    }

    public func txn(if compares: [Compare], then ops: [Op], else otherwise: [Op]) async throws -> TxnResult {
        // The else branch would run when only the fence failed: a deposed leader's write after all.
        precondition(otherwise.isEmpty, "a fenced transaction has no else branch")
        let result = try await base.txn(if: [fence] + compares, then: ops, else: [])
        if !result.succeeded, try await !holds() { throw StoreError.notLeader }
        return result
    }

    /// Whether the leader key still stands as it was created at the election.
    public func holds() async throws -> Bool {
        guard case .createRevision(_, let epoch) = fence else { return false }
        return try await base.get(leaderKey)?.createRevision == epoch
    }

    public func watch(prefix: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error> {
        base.watch(prefix: prefix, after: after)
    }

    public func compact(upTo revision: Revision) async throws { try await base.compact(upTo: revision) }

    /// etcd counts compares apart from operations, so the fence takes nothing from the base's limits.
    public var limits: TransactionLimits { base.limits }
}
