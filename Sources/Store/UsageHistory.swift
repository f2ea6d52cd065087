import Foundation
import GRDB

/// Usage over time, read by forecasts and reports. Not cluster state, so never in etcd: its own SQLite
/// file, downsampled as it ages: raw samples for a day, 1-minute means for two weeks, 1-hour means for
/// a year. Each sample is folded into its minute and hour rows as it arrives, so reading any resolution
/// is one indexed range scan. Three kinds of series: nodes (utilisation and reservation as fractions of
/// capacity), tenants (what they hold against their quotas) and jobs (their busiest task's use, for
/// right-sizing).
public final class UsageHistory: Sendable {
    public struct Sample: Sendable, Equatable, Codable {
        /// Seconds since the Unix epoch.
        public var time: Double
        /// Utilisation fractions of the node's capacity.
        public var cpu: Double
        public var memory: Double
        public var io: Double
        /// What the node's allocations requested, as fractions of its capacity.
        public var cpuReserved: Double
        public var memoryReserved: Double

        public init(
            time: Double, cpu: Double, memory: Double, io: Double, cpuReserved: Double = 0, memoryReserved: Double = 0
        ) {
            self.time = time
            self.cpu = cpu
            self.memory = memory
            self.io = io
            self.cpuReserved = cpuReserved
            self.memoryReserved = memoryReserved
        }
    }

    public enum Resolution: String, Sendable, CaseIterable {
        case raw, minute, hour

        public var seconds: Double {
            switch self {
            case .raw: 0
            case .minute: 60
            case .hour: 3600
            }
        }
        /// How long rows of this resolution are kept.
        public var retention: Double {
            switch self {
            case .raw: 86_400
            case .minute: 14 * 86_400
            case .hour: 365 * 86_400
            }
        }
        func bucket(_ time: Double) -> Double {
            self == .raw ? time : (time / seconds).rounded(.down) * seconds
        }
    }

    /// One family of tables: `<prefix>_<resolution>`, keyed by (`key`, time), with value columns folded
    /// by `fold`.
    struct Family: Sendable {
        enum Fold: Sendable { case mean, max }
        var prefix: String
        var key: String
        var columns: [String]
        var fold: Fold
        var resolutions: [Resolution]

        func table(_ resolution: Resolution) -> String { "\(prefix)_\(resolution.rawValue)" }
    }

    static let nodes = Family(
        prefix: "usage", key: "node", columns: ["cpu", "memory", "io", "cpu_reserved", "memory_reserved"],
        fold: .mean, resolutions: Resolution.allCases)

    let writer: any DatabaseWriter

    public init(path: String?) throws {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        writer =
            try path.map { try DatabasePool(path: $0, configuration: config) } ?? DatabaseQueue(configuration: config)
        try writer.write { db in
            for family in [Self.nodes, Self.tenants, Self.jobs] { try Self.create(family, in: db) }
        }
    }

    /// Creates a family's tables, and adds value columns that a file written by an older version lacks.
    static func create(_ family: Family, in db: Database) throws {
        for resolution in family.resolutions {
            let table = family.table(resolution)
            let columns = family.columns.map { "\($0) REAL NOT NULL DEFAULT 0" }.joined(separator: ", ")
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS \(table) (
                        \(family.key) TEXT NOT NULL, time REAL NOT NULL, n INTEGER NOT NULL, \(columns),
                        PRIMARY KEY (\(family.key), time)) WITHOUT ROWID
                    """)
            let present = Set(try db.columns(in: table).map(\.name))
            for column in family.columns where !present.contains(column) {
                try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(column) REAL NOT NULL DEFAULT 0")
            }
        }
    }

    /// Folds one sample of `key` into every resolution of `family`.
    static func fold(_ family: Family, key: String, time: Double, _ values: [Double], in db: Database) throws {
        let names = family.columns.joined(separator: ", ")
        let marks = Array(repeating: "?", count: values.count).joined(separator: ", ")
        let updates = family.columns.map { column -> String in
            switch family.fold {
            case .mean: "\(column) = \(column) + (excluded.\(column) - \(column)) / (n + 1)"
            case .max: "\(column) = max(\(column), excluded.\(column))"
            }
        }.joined(separator: ", ")
        for resolution in family.resolutions {
            var arguments: StatementArguments = [key, resolution.bucket(time)]
            arguments += StatementArguments(values)
            // One statement text per family and resolution: prepared once per connection, then reused.
            try db.cachedStatement(
                sql: """
                    INSERT INTO \(family.table(resolution)) (\(family.key), time, n, \(names)) VALUES (?, ?, 1, \(marks))
                    ON CONFLICT(\(family.key), time) DO UPDATE SET n = n + 1, \(updates)
                    """
            ).execute(arguments: arguments)
        }
    }

    /// Rows of `key` in `family` from `since` on, oldest first: time, then the value columns.
    func rows(_ family: Family, key: String, since: Double, resolution: Resolution) async throws -> [[Double]] {
        let table = family.table(resolution)
        let sql =
            "SELECT time, \(family.columns.joined(separator: ", ")) FROM \(table) WHERE \(family.key) = ? AND time >= ? ORDER BY time"
        return try await writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: [key, since]).map { row in
                (0...family.columns.count).map { row[$0] as Double }
            }
        }
    }

    /// The keys that have rows in `family` at `resolution` from `since` on.
    func keys(_ family: Family, since: Double, resolution: Resolution) async throws -> [String] {
        let sql = "SELECT DISTINCT \(family.key) FROM \(family.table(resolution)) WHERE time >= ? ORDER BY 1"
        return try await writer.read { db in try String.fetchAll(db, sql: sql, arguments: [since]) }
    }

    /// Records samples of one node, and with them what its jobs' tasks used, in one transaction (a
    /// heartbeat's worth); aggregates are running means.
    public func record(node: String, _ samples: [Sample], jobs: [(job: String, sample: JobSample)] = [])
        async throws
    {
        try await writer.write { db in
            for s in samples {
                try Self.fold(
                    Self.nodes, key: node, time: s.time, [s.cpu, s.memory, s.io, s.cpuReserved, s.memoryReserved],
                    in: db)
            }
            try Self.fold(jobs: jobs, in: db)
        }
    }

    /// Samples of `node` from `since` on, oldest first.
    public func samples(node: String, since: Double, resolution: Resolution) async throws -> [Sample] {
        try await rows(Self.nodes, key: node, since: since, resolution: resolution).map {
            Sample(time: $0[0], cpu: $0[1], memory: $0[2], io: $0[3], cpuReserved: $0[4], memoryReserved: $0[5])
        }
    }

    /// When the first node or tenant sample from `since` on was taken: each finer resolution refines the
    /// coarser one's answer while its first row lies in that row's bucket (a finer table that starts
    /// later has already dropped the older rows), so the answer is exact while raw rows reach back.
    public func earliest(since: Double) async throws -> Double? {
        try await writer.read { db in
            var found: (time: Double, bucket: Double)?
            for resolution in Resolution.allCases.reversed() {
                let firsts = try [Self.nodes, Self.tenants].compactMap {
                    try Double.fetchOne(
                        db, sql: "SELECT MIN(time) FROM \($0.table(resolution)) WHERE time >= ?", arguments: [since])
                }
                guard let first = firsts.min() else { continue }
                if let coarse = found, first >= coarse.time + coarse.bucket { continue }
                found = (first, resolution.seconds)
            }
            return found?.time
        }
    }

    /// Drops rows older than each resolution's retention, as of `now`. Returns the rows removed.
    @discardableResult
    public func prune(now: Double) async throws -> Int {
        try await writer.write { db in
            var removed = 0
            for family in [Self.nodes, Self.tenants, Self.jobs] {
                for resolution in family.resolutions {
                    try db.execute(
                        sql: "DELETE FROM \(family.table(resolution)) WHERE time < ?",
                        arguments: [now - resolution.retention])
                    removed += db.changesCount
                }
            }
            return removed
        }
    }
}
