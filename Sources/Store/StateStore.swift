/// A store-wide revision: every committed transaction that changes something gets the next one.
public struct Revision: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var raw: Int64
    public init(_ raw: Int64) { self.raw = raw }
    public static func < (a: Revision, b: Revision) -> Bool { a.raw < b.raw }
    public static let zero = Revision(0)
    public var description: String { "\(raw)" }
}

public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Revision
    public var modRevision: Revision
    /// Writes since the key was created (1 after the first).
    public var version: Int64

    public init(key: String, value: [UInt8], createRevision: Revision, modRevision: Revision, version: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
    }
}

/// A condition of a transaction, as etcd compares.
public enum Compare: Sendable, Equatable {
    /// The key does not exist (etcd: CREATE == 0).
    case absent(String)
    /// The key was last written at this revision (etcd: MOD == r).
    case modRevision(String, Revision)
    /// The key was created at this revision (etcd: CREATE == r), the fence of an etcd-native leader.
    case createRevision(String, Revision)
    case value(String, [UInt8])
}

public enum Op: Sendable, Equatable {
    case put(String, [UInt8])
    case delete(String)
    case deletePrefix(String)
}

public struct TxnResult: Sendable, Equatable {
    public var succeeded: Bool
    /// The store's revision after the transaction.
    public var revision: Revision
}

public enum WatchEvent: Sendable, Equatable {
    case put(KeyValue)
    case delete(key: String, modRevision: Revision)
}

public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// History before this revision is gone: relist, then watch from the list's revision.
    case compacted(Revision)
    case unavailable(String)
    case quotaExceeded
    /// A fenced write found the leader key it carries gone or re-created: this process no longer leads,
    /// and nothing of the transaction was applied.
    case notLeader

    public var description: String {
        switch self {
        case .compacted(let revision): "store history is compacted up to revision \(revision)"
        case .unavailable(let why): "store unavailable: \(why)"
        case .quotaExceeded: "store space quota exceeded"
        case .notLeader: "this scheduler no longer leads: its write was refused by the leader fence"
        }
    }
}

/// Cluster state. Every method is safe to call concurrently; a transaction that returns has been made
/// durable (a scheduler acknowledges a job only after its transaction returns).
public protocol StateStore: Sendable {
    func get(_ key: String) async throws -> KeyValue?
    /// Keys starting with `prefix` in key order, and the revision the listing reflects.
    func list(prefix: String, limit: Int?) async throws -> (items: [KeyValue], revision: Revision)
    /// Applies `then` if every compare holds, `else` otherwise, atomically.
    func txn(if compares: [Compare], then: [Op], else: [Op]) async throws -> TxnResult
    /// Events strictly after `after`, in batches per transaction; ends with `StoreError.compacted` when
    /// that history is gone, and the caller relists.
    func watch(prefix: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error>
    func compact(upTo: Revision) async throws
    /// The most one transaction may carry (etcd: 128 operations, 1.5 MiB by default).
    var limits: TransactionLimits { get }
}

/// How large one transaction may be: a change bigger than this goes in several, each one whole.
public struct TransactionLimits: Sendable, Equatable {
    public var operations: Int
    public var bytes: Int
    public init(operations: Int, bytes: Int) {
        self.operations = operations
        self.bytes = bytes
    }
    public static let unlimited = TransactionLimits(operations: .max, bytes: .max)
}

extension StateStore {
    /// A store without limits of its own (SQLite).
    public var limits: TransactionLimits { .unlimited }

    public func txn(if compares: [Compare] = [], then ops: [Op]) async throws -> TxnResult {
        try await txn(if: compares, then: ops, else: [])
    }

    public func put(_ key: String, _ value: [UInt8]) async throws {
        _ = try await txn(if: [], then: [.put(key, value)], else: [])
    }

    /// Applies `ops` in as few transactions as the store's limits allow, in order: each transaction is
    /// atomic, the whole is not (for changes whose parts stand alone, like many tasks' records).
    public func apply(_ ops: [Op]) async throws {
        for batch in Self.batches(ops, within: limits) { _ = try await txn(then: batch) }
    }

    /// Whether `ops` fit in one transaction of this store.
    public func fits(_ ops: [Op]) -> Bool { Self.batches(ops, within: limits).count <= 1 }

    /// `ops` cut into runs that fit `limits` (a single operation over the byte limit goes alone: the store
    /// refuses it with its own error).
    static func batches(_ ops: [Op], within limits: TransactionLimits) -> [[Op]] {
        var batches: [[Op]] = []
        var current: [Op] = []
        var bytes = 0
        for op in ops {
            let size = op.size
            if !current.isEmpty && (current.count >= limits.operations || bytes > limits.bytes - size) {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(op)
            bytes += size
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}

extension Op {
    /// About what the operation weighs in a request: key and value, base64 on etcd's JSON gateway.
    var size: Int {
        switch self {
        case .put(let key, let value): (key.utf8.count + value.count) * 4 / 3 + 64
        case .delete(let key), .deletePrefix(let key): key.utf8.count * 8 / 3 + 64
        }
    }
}
