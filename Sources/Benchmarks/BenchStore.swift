import Demo
import Foundation
import Store

/// Where a benchmarked scheduler keeps its state: SQLite in its data directory, or etcd (three members on
/// loopback, three schedulers of which one leads: a highly available cluster as it is deployed).
public enum BenchStore: String, Sendable, Encodable, CaseIterable {
    case sqlite, etcd

    /// Runs `body` with etcd up when asked for: the schedulers' HA settings (nil for SQLite), and a store
    /// for the benchmark's own floor transactions (the same kind, beside the cluster's).
    func with<T>(dataDir: String, _ body: (LocalCluster.HA?, any StateStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(nil, try SQLiteStore(path: dataDir + "/floor.sqlite"))
        case .etcd:
            let etcd = try LocalEtcd(count: 3, directory: dataDir + "/etcd")
            defer { etcd.stop() }
            return try await body(
                LocalCluster.HA(endpoints: etcd.endpoints, schedulers: 3),
                EtcdStore(endpoints: etcd.endpoints, prefix: "/floor/"))
        }
    }
}
