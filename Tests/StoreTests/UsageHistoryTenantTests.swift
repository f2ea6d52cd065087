import Foundation
import GRDB
import Store
import TestSupport
import Testing

@Suite struct UsageHistoryTenantTests {
    @Test func tenantsAreMeansAndJobsAreMaximaPerMinute() async throws {
        let history = try UsageHistory(path: nil)
        for (i, cpu) in [1.0, 3.0].enumerated() {
            try await history.record(tenant: "acme", .init(time: 600 + Double(i) * 10, cpu: cpu, memory: 100, tasks: 2))
        }
        let minute = try await history.samples(tenant: "acme", since: 0, resolution: .minute)
        #expect(minute.map(\.cpu) == [2])
        #expect(try await history.samples(tenant: "acme", since: 0, resolution: .raw).count == 2)
        #expect(try await history.tenants(since: 0, resolution: .hour) == ["acme"])
        try await history.record(jobs: [
            ("j1", .init(time: 600, cpu: 0.2, memory: 10)), ("j1", .init(time: 630, cpu: 0.7, memory: 5)),
            ("j2", .init(time: 700, cpu: 1, memory: 1)),
        ])
        let jobs = try await history.jobSamples(since: 0)
        #expect(jobs["j1"]?.map(\.cpu) == [0.7])
        #expect(jobs["j1"]?.map(\.memory) == [10])
        #expect(jobs["j2"]?.count == 1)
    }

    @Test func earliestIsExactWhileRawRowsReachBackAndToTheMinuteAfter() async throws {
        let history = try UsageHistory(path: nil)
        #expect(try await history.earliest(since: 0) == nil)
        try await history.record(node: "n1", [.init(time: 1000.5, cpu: 0.1, memory: 0.1, io: 0)])
        try await history.record(tenant: "acme", .init(time: 2000, cpu: 1, memory: 1, tasks: 1))
        #expect(try await history.earliest(since: 0) == 1000.5)
        #expect(try await history.earliest(since: 1500) == 2000)
        try await history.prune(now: 1000.5 + 86_400 + 1500)  // the raw rows are gone, the minute rows stay
        #expect(try await history.earliest(since: 0) == 960)
    }

    /// A history file written before reservations were recorded gains the columns (zero) on open.
    @Test func anOlderFileGainsTheReservationColumns() async throws {
        let directory = TemporaryDirectory("corral-history")
        let path = directory.path + "/history.sqlite"
        let old = try DatabaseQueue(path: path)
        try await old.write { db in
            for table in ["usage_raw", "usage_minute", "usage_hour"] {
                try db.execute(
                    sql: """
                        CREATE TABLE \(table) (node TEXT NOT NULL, time REAL NOT NULL, n INTEGER NOT NULL,
                        cpu REAL NOT NULL, memory REAL NOT NULL, io REAL NOT NULL, PRIMARY KEY (node, time)) WITHOUT ROWID
                        """)
            }
            try db.execute(sql: "INSERT INTO usage_raw VALUES ('n1', 100, 1, 0.5, 0.25, 0)")
        }
        try old.close()
        let history = try UsageHistory(path: path)
        let samples = try await history.samples(node: "n1", since: 0, resolution: .raw)
        #expect(samples == [.init(time: 100, cpu: 0.5, memory: 0.25, io: 0, cpuReserved: 0, memoryReserved: 0)])
        try await history.record(node: "n1", [.init(time: 200, cpu: 0.1, memory: 0.1, io: 0, cpuReserved: 0.5)])
        #expect(try await history.samples(node: "n1", since: 150, resolution: .raw).first?.cpuReserved == 0.5)
    }
}
