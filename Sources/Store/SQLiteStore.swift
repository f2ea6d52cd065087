import Foundation
import GRDB
import Synchronization

/// The embedded `StateStore`: one SQLite file in WAL mode with `synchronous = FULL`, so a transaction
/// that returned survives a crash or power loss. Rows: `kv(key, value, create_rev, mod_rev, version)` and
/// the store revision in `meta`. Watches are an in-process fan-out with a bounded replay ring.
public final class SQLiteStore: StateStore {
    let writer: any DatabaseWriter
    let watchers: WatchHub

    /// Opens (creating if needed) the store at `path`; `nil` keeps it in memory (tests). Watches can replay
    /// at least the last `replayLimit` transactions (up to twice that between trims).
    public init(path: String?, replayLimit: Int = 10_000) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        if let path {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            writer = try DatabasePool(path: path, configuration: config)
        } else {
            writer = try DatabaseQueue(configuration: config)
        }
        try writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS kv (
                        key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL,
                        create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL,
                        compacted INTEGER NOT NULL);
                    INSERT OR IGNORE INTO meta (id, rev, compacted) VALUES (1, 0, 0);
                    """)
        }
        let revision = try writer.read { db in try Int64.fetchOne(db, sql: "SELECT rev FROM meta") ?? 0 }
        watchers = WatchHub(revision: Revision(revision), replayLimit: replayLimit)
    }

    public func get(_ key: String) async throws -> KeyValue? {
        try await writer.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM kv WHERE key = ?"), arguments: [key])
                .map(Self.keyValue)
        }
    }

    public func list(prefix: String, limit: Int?) async throws -> (items: [KeyValue], revision: Revision) {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"),
                arguments: [prefix, Self.prefixEnd(prefix), limit ?? -1])
            let revision = try Self.revision(db)
            return (rows.map(Self.keyValue), Revision(revision))
        }
    }

    public func txn(if compares: [Compare], then: [Op], else otherwise: [Op]) async throws -> TxnResult {
        let (result, events) = try await writer.write { db -> (TxnResult, [WatchEvent]) in
            var revision = try Self.revision(db)
            let succeeded = try compares.allSatisfy { try Self.holds($0, db) }
            let ops = succeeded ? then : otherwise
            guard !ops.isEmpty else { return (TxnResult(succeeded: succeeded, revision: Revision(revision)), []) }
            revision += 1
            var events: [WatchEvent] = []
            for op in ops { events += try Self.apply(op, revision: revision, db) }
            try db.cachedStatement(sql: "UPDATE meta SET rev = ?").execute(arguments: [revision])
            return (TxnResult(succeeded: succeeded, revision: Revision(revision)), events)
        }
        if !events.isEmpty { watchers.publish(events, revision: result.revision) }
        return result
    }

    public func watch(prefix: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error> {
        watchers.subscribe(prefix: prefix, after: after)
    }

    public func compact(upTo revision: Revision) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE meta SET compacted = MAX(compacted, ?)", arguments: [revision.raw])
        }
        watchers.compact(upTo: revision)
    }

    static func holds(_ compare: Compare, _ db: Database) throws -> Bool {
        func row(_ key: String) throws -> Row? {
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT create_rev, mod_rev, value FROM kv WHERE key = ?"), arguments: [key])
        }
        switch compare {
        case .absent(let key): return try row(key) == nil
        case .modRevision(let key, let revision): return try row(key)?["mod_rev"] == revision.raw
        case .createRevision(let key, let revision): return try row(key)?["create_rev"] == revision.raw
        case .value(let key, let value):
            guard let data: Data = try row(key)?["value"] else { return false }
            return [UInt8](data) == value
        }
    }

    static func apply(_ op: Op, revision: Int64, _ db: Database) throws -> [WatchEvent] {
        switch op {
        case .put(let key, let value):
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        INSERT INTO kv (key, value, create_rev, mod_rev, version) VALUES (?, ?, ?, ?, 1)
                        ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev,
                            version = version + 1
                        RETURNING *
                        """), arguments: [key, Data(value), revision, revision])
            return row.map { [.put(keyValue($0))] } ?? []
        case .delete(let key):
            try db.cachedStatement(sql: "DELETE FROM kv WHERE key = ?").execute(arguments: [key])
            return db.changesCount > 0 ? [.delete(key: key, modRevision: Revision(revision))] : []
        case .deletePrefix(let prefix):
            let keys = try String.fetchAll(
                db.cachedStatement(sql: "DELETE FROM kv WHERE key >= ? AND key < ? RETURNING key"),
                arguments: [prefix, prefixEnd(prefix)])
            return keys.sorted().map { .delete(key: $0, modRevision: Revision(revision)) }
        }
    }

    /// The store's revision. Statements here are prepared once per connection and kept
    /// (`cachedStatement`): GRDB's authorizer and region tracking run on each prepare, which would cost
    /// the scheduler a large share of its CPU time if every call prepared its statement anew.
    static func revision(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT rev FROM meta")) ?? 0
    }

    /// The smallest string greater than every string starting with `prefix` (keys are ASCII).
    static func prefixEnd(_ prefix: String) -> String { prefix + "\u{10FFFF}" }

    static func keyValue(_ row: Row) -> KeyValue {
        let data: Data = row["value"]
        return KeyValue(
            key: row["key"], value: [UInt8](data), createRevision: Revision(row["create_rev"]),
            modRevision: Revision(row["mod_rev"]), version: row["version"])
    }
}
