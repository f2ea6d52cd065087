import CorralModel
import CorralProtocol
import Foundation
import Logging
import Placement
import Store

extension Scheduler {
    /// How often tenants' holdings are sampled into the history, and how often it is pruned.
    static let tenantSampleSeconds = 5.0
    static let pruneSeconds = 3600.0

    /// A node's sample: its agent's utilisation, and what its allocations reserve, as fractions.
    func nodeSample(node: NodeID, usage: NodeLoad, time: Double) -> UsageHistory.Sample {
        var sample = UsageHistory.Sample(time: time, cpu: usage.cpu, memory: usage.memory, io: usage.io)
        if let capacity = core.nodes[node]?.record.capacity, let reserved = core.view.node(node.rawValue)?.reserved {
            if capacity.cpuMillis > 0 { sample.cpuReserved = Double(reserved.cpuMillis) / Double(capacity.cpuMillis) }
            if capacity.memory > 0 { sample.memoryReserved = Double(reserved.memory) / Double(capacity.memory) }
        }
        return sample
    }

    /// Each running allocation's use since its previous report (cores from the CPU-time counter's
    /// rise), grouped under its job for right-sizing. Forgets allocations that ended.
    func jobSamples(_ reports: [AllocationReport], time: Double) -> [(job: String, sample: UsageHistory.JobSample)] {
        var samples: [(job: String, sample: UsageHistory.JobSample)] = []
        for report in reports {
            guard report.state == .running, let usage = report.usage, let task = core.table.task(of: report.id) else {
                cpuCounters[report.id] = nil
                continue
            }
            defer { cpuCounters[report.id] = (time, usage.cpuUsec) }
            guard let (then, usec) = cpuCounters[report.id], time > then, usage.cpuUsec >= usec else { continue }
            let cores = Double(usage.cpuUsec - usec) / 1e6 / (time - then)
            samples.append((task.job.rawValue, .init(time: time, cpu: cores, memory: Double(usage.memoryBytes))))
        }
        return samples
    }

    /// Samples every tenant's holdings and prunes old history, until cancelled.
    func historyLoop() async {
        guard let history else { return }
        var pruned = -Double.infinity
        while !Task.isCancelled {
            let time = now()
            do {
                let samples = core.ledger.held.map { tenant, held in
                    (
                        tenant,
                        UsageHistory.TenantSample(
                            time: time, cpu: held.cpu, memory: Double(held.memory), tasks: Double(held.runningTasks))
                    )
                }
                try await history.record(tenants: samples)
                // Allocations that vanished without a last report (their node was lost) leave no counters behind.
                cpuCounters = cpuCounters.filter { core.table.task(of: $0.key) != nil }
                if time - pruned >= Self.pruneSeconds {
                    try await history.prune(now: time)
                    pruned = time
                }
            } catch {
                logger.error("recording usage history failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(Self.tenantSampleSeconds))
        }
    }

    /// What a report needs of the cluster now: nodes, jobs with their requests, tenants and quotas.
    public func snapshot() -> ClusterSnapshot { core.snapshot(now: now()) }
}
