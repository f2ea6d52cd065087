import CorralClient
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService
import Store

/// `corral bench submit`: how long a client waits for a job to be acknowledged (201, the job durable
/// in SQLite with `synchronous = FULL`, or committed by a three-member etcd) by a real `corral
/// scheduler` process on 127.0.0.1 (with etcd: the leader of three). Its two floors are timed in the
/// same run, interleaved with the submissions: an authenticated request to the same server that writes
/// nothing (the HTTP round trip), and the store's own durable transaction of a job-sized record, beside
/// the cluster's (SQLite: a second database on the same disk; etcd: the same members, another prefix).
public struct SubmitBenchmark: Sendable {
    public var jobs: Int
    public var warmup: Int
    /// The `corral` binary to run the scheduler from.
    public var binary: String
    public var dataDir: String
    public var store: BenchStore

    public init(jobs: Int, warmup: Int = 20, binary: String, dataDir: String, store: BenchStore = .sqlite) {
        self.store = store
        self.jobs = jobs
        self.warmup = warmup
        self.binary = binary
        self.dataDir = dataDir
    }

    public struct Report: Sendable, Encodable {
        public var jobs: Int
        public var store: BenchStore
        public var ackMinMs: Double
        public var ackP50Ms: Double
        public var ackP99Ms: Double
        /// An authenticated read from the same scheduler (no write).
        public var roundTripP50Ms: Double
        /// A durable transaction of the same bytes through the store, without HTTP.
        public var commitP50Ms: Double
        /// Acknowledgement p50 over the sum of the two floors' p50s.
        public var ackOverFloors: Double
    }

    public func run(progress: (String) -> Void) async throws -> Report {
        let config = SchedulerConfig.benchmark(heartbeatIntervalSeconds: 5)
        let spec = Data(
            #"{"name": "ack", "tenant": "bench", "command": ["/bin/true"], "resources": {"cpu": "10m", "memory": "8Mi"}}"#
                .utf8)
        return try await store.with(dataDir: dataDir) { ha, floor in
            try await run(config: config, spec: spec, ha: ha, floor: floor, progress: progress)
        }
    }

    func run(
        config: SchedulerConfig, spec: Data, ha: LocalCluster.HA?, floor: any StateStore, progress: (String) -> Void
    ) async throws -> Report {
        try await LocalCluster.with(binary: binary, dataDir: dataDir + "/cluster", config: config, ha: ha) { cluster in
            try cluster.startScheduler()
            let client = cluster.client(token: config.benchToken)
            try await cluster.waitForScheduler()
            progress("scheduler up at \(cluster.url); \(warmup) warm-up and \(jobs) timed submissions")
            var ack = Samples()
            var roundTrip = Samples()
            var commit = Samples()
            let clock = ContinuousClock()
            for i in 0..<(warmup + jobs) {
                let timed = i >= warmup
                var start = clock.now
                _ = try await client.submit(spec)
                if timed { ack.add(clock.now - start) }
                start = clock.now
                _ = try await client.quota(tenant: "bench")
                if timed { roundTrip.add(clock.now - start) }
                start = clock.now
                _ = try await floor.txn(if: [.absent("jobs/\(i)")], then: [.put("jobs/\(i)", Array(spec))])
                if timed { commit.add(clock.now - start) }
            }
            let floors = roundTrip.percentile(50) + commit.percentile(50)
            return Report(
                jobs: jobs, store: store, ackMinMs: ack.min, ackP50Ms: ack.percentile(50), ackP99Ms: ack.percentile(99),
                roundTripP50Ms: roundTrip.percentile(50), commitP50Ms: commit.percentile(50),
                ackOverFloors: ack.percentile(50) / floors)
        }
    }
}
