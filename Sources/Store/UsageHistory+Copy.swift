import Foundation
import GRDB

/// Copying the downsampled history from one scheduler to another (a follower pulls the leader's): rows
/// of one family and resolution in (time, key) order, read in pages and written over the copy's own.
extension UsageHistory {
    /// One row as it is kept: the series' key, the bucket's start, how many samples it folds, and the
    /// family's value columns in order.
    public struct CopiedRow: Sendable, Codable, Equatable {
        public var key: String
        public var time: Double
        public var n: Int
        public var values: [Double]
    }

    /// The tables a copy carries: every family at every resolution it keeps.
    public static let copied: [(family: String, resolution: Resolution)] = [nodes, tenants, jobs]
        .flatMap { family in family.resolutions.map { (family.prefix, $0) } }

    static func family(_ name: String) -> Family? { [nodes, tenants, jobs].first { $0.prefix == name } }

    /// Rows of `family` at `resolution` after (`time`, `key`) in (time, key) order, at most `limit`.
    public func rows(family name: String, resolution: Resolution, after time: Double, key: String, limit: Int)
        async throws -> [CopiedRow]
    {
        guard let family = Self.family(name), family.resolutions.contains(resolution) else { return [] }
        let sql = """
            SELECT \(family.key), time, n, \(family.columns.joined(separator: ", ")) FROM \(family.table(resolution))
            WHERE time > ? OR (time = ? AND \(family.key) > ?) ORDER BY time, \(family.key) LIMIT ?
            """
        return try await writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: [time, time, key, limit]).map { row in
                CopiedRow(
                    key: row[0], time: row[1], n: row[2],
                    values: (0..<family.columns.count).map { row[3 + $0] as Double })
            }
        }
    }

    /// Writes `rows` over this history's own (a bucket copied again replaces the earlier copy). Rows with
    /// the wrong number of values, or values that are not finite, are refused whole.
    public func replace(family name: String, resolution: Resolution, _ rows: [CopiedRow]) async throws {
        guard let family = Self.family(name), family.resolutions.contains(resolution) else { return }
        for row in rows
        where row.values.count != family.columns.count || !row.values.allSatisfy(\.isFinite)
            || !row.time.isFinite || row.n < 1
        {
            throw HistoryCopyError(message: "a \(name) row of \(row.key) at \(row.time) is malformed")
        }
        let columns = family.columns.joined(separator: ", ")
        let marks = Array(repeating: "?", count: family.columns.count + 3).joined(separator: ", ")
        try await writer.write { db in
            for row in rows {
                var arguments: StatementArguments = [row.key, row.time, row.n]
                arguments += StatementArguments(row.values)
                try db.cachedStatement(
                    sql:
                        "INSERT OR REPLACE INTO \(family.table(resolution)) (\(family.key), time, n, \(columns)) VALUES (\(marks))"
                ).execute(arguments: arguments)
            }
        }
    }

    /// The start of the newest bucket of `family` at `resolution`, if any.
    public func newest(family name: String, resolution: Resolution) async throws -> Double? {
        guard let family = Self.family(name) else { return nil }
        return try await writer.read { db in
            try Double.fetchOne(db, sql: "SELECT MAX(time) FROM \(family.table(resolution))")
        }
    }
}

public struct HistoryCopyError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
