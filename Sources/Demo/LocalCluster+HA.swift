import CorralClient
import CorralProtocol
import Foundation
import NIOCore
import SchedulerService

/// Several schedulers on etcd: what the failover tests, `corral demo --ha` and the etcd benchmarks start.
extension LocalCluster {
    /// Several schedulers on etcd, one elected leader (`corral scheduler --store etcd`).
    public struct HA: Sendable {
        public var endpoints: [String]
        public var schedulers: Int
        public var leaseTTL: Int
        /// Schedulers that run inside a network namespace (`ip netns` name), listening on its address.
        public var namespaces: [Int: (netns: String, host: String)]
        public init(
            endpoints: [String], schedulers: Int = 3, leaseTTL: Int = 5,
            namespaces: [Int: (netns: String, host: String)] = [:]
        ) {
            self.endpoints = endpoints
            self.schedulers = schedulers
            self.leaseTTL = leaseTTL
            self.namespaces = namespaces
        }
    }

    /// Stops scheduler `index` (SIGSTOP) without ending it, or lets it go on (SIGCONT): a process that
    /// stalls, as in a long pause or a partition, and comes back believing what it believed before.
    public func pauseScheduler(_ index: Int, _ paused: Bool) {
        guard let process = lock.withLock({ schedulers[index] }), process.isRunning else { return }
        kill(process.processIdentifier, paused ? SIGSTOP : SIGCONT)
    }

    /// Which scheduler leads now, by each one's `/v1/leader` (nil while none does).
    public func leader() async -> Int? {
        for (index, url) in schedulerURLs.enumerated() where lock.withLock({ schedulers[index] }) != nil {
            let one = SchedulerClient(baseURL: url, token: config.adminToken, http: http)
            // A stalled scheduler accepts the connection and never answers: a second is enough for the rest.
            if let view = try? await one.leader(timeout: .seconds(1)), view.role == "leader" { return index }
        }
        return nil
    }
}
