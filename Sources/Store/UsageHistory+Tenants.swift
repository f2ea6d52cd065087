import Foundation
import GRDB

extension UsageHistory {
    /// What a tenant holds at one time: the requests of its placed tasks, against its quota.
    public struct TenantSample: Sendable, Equatable, Codable {
        public var time: Double
        /// Cores and bytes requested by the tenant's placed tasks.
        public var cpu: Double
        public var memory: Double
        public var tasks: Double

        public init(time: Double, cpu: Double, memory: Double, tasks: Double) {
            self.time = time
            self.cpu = cpu
            self.memory = memory
            self.tasks = tasks
        }
    }

    /// What one job's busiest task used in a minute: cores and bytes. Per-minute maxima (kept two
    /// weeks) are what right-sizing compares with the job's request.
    public struct JobSample: Sendable, Equatable, Codable {
        public var time: Double
        public var cpu: Double
        public var memory: Double

        public init(time: Double, cpu: Double, memory: Double) {
            self.time = time
            self.cpu = cpu
            self.memory = memory
        }
    }

    static let tenants = Family(
        prefix: "tenant", key: "tenant", columns: ["cpu", "memory", "tasks"], fold: .mean,
        resolutions: Resolution.allCases)
    static let jobs = Family(
        prefix: "job", key: "job", columns: ["cpu", "memory"], fold: .max, resolutions: [.minute])

    public func record(tenant: String, _ sample: TenantSample) async throws {
        try await record(tenants: [(tenant, sample)])
    }

    /// Records one sample of each tenant in one transaction.
    public func record(tenants samples: [(tenant: String, sample: TenantSample)]) async throws {
        guard !samples.isEmpty else { return }
        try await writer.write { db in
            for (tenant, s) in samples {
                try Self.fold(Self.tenants, key: tenant, time: s.time, [s.cpu, s.memory, s.tasks], in: db)
            }
        }
    }

    public func samples(tenant: String, since: Double, resolution: Resolution) async throws -> [TenantSample] {
        try await rows(Self.tenants, key: tenant, since: since, resolution: resolution).map {
            TenantSample(time: $0[0], cpu: $0[1], memory: $0[2], tasks: $0[3])
        }
    }

    public func tenants(since: Double, resolution: Resolution) async throws -> [String] {
        try await keys(Self.tenants, since: since, resolution: resolution)
    }

    /// Records what tasks of several jobs used, in one transaction: (job, sample) pairs.
    public func record(jobs samples: [(job: String, sample: JobSample)]) async throws {
        guard !samples.isEmpty else { return }
        try await writer.write { db in try Self.fold(jobs: samples, in: db) }
    }

    static func fold(jobs samples: [(job: String, sample: JobSample)], in db: Database) throws {
        for (job, s) in samples { try fold(Self.jobs, key: job, time: s.time, [s.cpu, s.memory], in: db) }
    }
}

extension UsageHistory {
    /// Per-minute maxima of every job with samples from `since` on, in one read.
    public func jobSamples(since: Double) async throws -> [String: [JobSample]] {
        try await writer.read { db in
            var result: [String: [JobSample]] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT job, time, cpu, memory FROM job_minute WHERE time >= ? ORDER BY job, time",
                arguments: [since])
            while let row = try rows.next() {
                result[row["job"], default: []].append(
                    JobSample(time: row["time"], cpu: row["cpu"], memory: row["memory"]))
            }
            return result
        }
    }
}
