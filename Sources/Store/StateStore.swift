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

    public var description: String {
        switch self {
        case .compacted(let revision): "store history is compacted up to revision \(revision)"
        case .unavailable(let why): "store unavailable: \(why)"
        case .quotaExceeded: "store space quota exceeded"
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
}

extension StateStore {
    public func txn(if compares: [Compare] = [], then ops: [Op]) async throws -> TxnResult {
        try await txn(if: compares, then: ops, else: [])
    }

    public func put(_ key: String, _ value: [UInt8]) async throws {
        _ = try await txn(if: [], then: [.put(key, value)], else: [])
    }
}
