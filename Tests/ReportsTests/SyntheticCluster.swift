import CorralModel
import CorralProtocol
import Foundation
import Placement
import Reports
import Store
import TestSupport

/// A history with known answers: one node whose CPU climbs 4 points a day (0.10 at the start, 0.66
/// after 14 days, so 80% is 3.5 days past the end), whose memory stays at 30%, and a tenant whose held
/// CPU climbs 0.3 cores a day towards its quota of 8 (6.2 now, so 6 days past the end).
struct SyntheticCluster {
    static let day = 86_400.0
    static let start = 1_790_000_000.0 - 1_790_000_000.0.truncatingRemainder(dividingBy: 86_400)
    static let now = start + 14 * day

    /// Small, deterministic wobble so that the series are not exactly linear.
    static func noise(_ i: Int, _ scale: Double) -> Double { scale * sin(Double(i) * 1.7) * cos(Double(i) * 0.37) }

    let history: UsageHistory
    let snapshot: ClusterSnapshot

    init() async throws {
        history = try UsageHistory(path: nil)
        for hour in 0..<(14 * 24) {
            let time = Self.start + Double(hour) * 3600
            let days = Double(hour) / 24
            try await history.record(
                node: "node-1",
                [
                    .init(
                        time: time, cpu: 0.10 + 0.04 * days + Self.noise(hour, 0.004),
                        memory: 0.3 + Self.noise(hour + 7, 0.01),
                        io: 0.05, cpuReserved: 0.5, memoryReserved: 0.6)
                ])
            try await history.record(
                tenant: "acme",
                .init(time: time, cpu: 2 + 0.3 * days + Self.noise(hour + 3, 0.01), memory: 4e9, tasks: 4))
        }
        var usage = TenantUsage()
        usage.cpu = 2 + 0.3 * 14
        usage.memory = 4_000_000_000
        usage.runningTasks = 4
        snapshot = ClusterSnapshot(
            time: Self.now,
            nodes: [
                NodeStatus(
                    id: "node-1", capacity: ResourceVector(cpuMillis: 8000, memory: 16 << 30),
                    reserved: ResourceVector(cpuMillis: 4000, memory: Int64(0.6 * Double(16 << 30))))
            ],
            jobs: [ClusterSnapshot.Job(id: "j1", name: "batch", tenant: "acme", cpu: 1, memory: 2 << 30, tasks: 4)],
            tenants: [
                ClusterSnapshot.Tenant(name: "acme", quota: TenantQuota(cpu: 8, memory: 64 << 30), usage: usage)
            ])
    }

    func report(horizonDays: Double = 7) async throws -> CapacityReport {
        try await CapacityReport.build(
            snapshot: snapshot, history: history,
            options: CapacityReportOptions(
                now: Self.now, sinceSeconds: 14 * Self.day, horizonSeconds: horizonDays * Self.day))
    }
}
