import Foundation
import GRDB

/// Node usage over time, read by forecasts and reports. Not cluster state, so never in etcd: its own
/// SQLite file, downsampled as it ages: raw samples for a day, 1-minute means for two weeks, 1-hour
/// means for a year. Each sample is folded into its minute and hour rows as it arrives, so reading any
/// resolution is one indexed range scan.
public final class UsageHistory: Sendable {
    public struct Sample: Sendable, Equatable, Codable {
        /// Seconds since the Unix epoch.
        public var time: Double
        /// Utilisation fractions of the node's capacity.
        public var cpu: Double
        public var memory: Double
        public var io: Double

        public init(time: Double, cpu: Double, memory: Double, io: Double) {
            self.time = time
            self.cpu = cpu
            self.memory = memory
            self.io = io
        }
    }

    public enum Resolution: String, Sendable, CaseIterable {
        case raw, minute, hour

        var table: String { "usage_\(rawValue)" }
        var seconds: Double {
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
    }

    let writer: any DatabaseWriter

    public init(path: String?) throws {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        writer =
            try path.map { try DatabasePool(path: $0, configuration: config) } ?? DatabaseQueue(configuration: config)
        try writer.write { db in
            for resolution in Resolution.allCases {
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS \(resolution.table) (
                            node TEXT NOT NULL, time REAL NOT NULL, n INTEGER NOT NULL,
                            cpu REAL NOT NULL, memory REAL NOT NULL, io REAL NOT NULL,
                            PRIMARY KEY (node, time)) WITHOUT ROWID
                        """)
            }
        }
    }

    /// Records samples of one node; aggregates are running means.
    public func record(node: String, _ samples: [Sample]) async throws {
        try await writer.write { db in
            for sample in samples {
                for resolution in Resolution.allCases {
                    let bucket =
                        resolution == .raw
                        ? sample.time : (sample.time / resolution.seconds).rounded(.down) * resolution.seconds
                    try db.execute(
                        sql: """
                            INSERT INTO \(resolution.table) (node, time, n, cpu, memory, io) VALUES (?, ?, 1, ?, ?, ?)
                            ON CONFLICT(node, time) DO UPDATE SET n = n + 1,
                                cpu = cpu + (excluded.cpu - cpu) / (n + 1),
                                memory = memory + (excluded.memory - memory) / (n + 1),
                                io = io + (excluded.io - io) / (n + 1)
                            """, arguments: [node, bucket, sample.cpu, sample.memory, sample.io])
                }
            }
        }
    }

    /// Samples of `node` from `since` on, oldest first.
    public func samples(node: String, since: Double, resolution: Resolution) async throws -> [Sample] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT time, cpu, memory, io FROM \(resolution.table) WHERE node = ? AND time >= ? ORDER BY time",
                arguments: [node, since]
            ).map { Sample(time: $0["time"], cpu: $0["cpu"], memory: $0["memory"], io: $0["io"]) }
        }
    }

    /// Drops rows older than each resolution's retention, as of `now`. Returns the rows removed.
    @discardableResult
    public func prune(now: Double) async throws -> Int {
        try await writer.write { db in
            var removed = 0
            for resolution in Resolution.allCases {
                try db.execute(
                    sql: "DELETE FROM \(resolution.table) WHERE time < ?", arguments: [now - resolution.retention])
                removed += db.changesCount
            }
            return removed
        }
    }
}
