import CorralModel
import Foundation
import Reports
import Store
import TestSupport
import Testing

/// Built once for the suite: 336 hourly points with a daily season take auto-ARIMA a while in a debug build.
let syntheticReport = Task { try await SyntheticCluster().report() }

@Suite struct CapacityNumbersTests {
    @Test func linearRampCrossesEightyPercentOnTheKnownDay() async throws {
        let report = try await syntheticReport.value
        let cpu = try #require(report.nodes.first?.resources.first { $0.kind == .cpu })
        let crossing = try #require(cpu.crosses80At, "a ramp 14 points below 80% at 4 points a day must cross")
        let expected = SyntheticCluster.now + 3.5 * SyntheticCluster.day
        #expect(abs(crossing - expected) <= 12 * 3600, "crossed at \(crossing), expected \(expected) ± 12 h")
        #expect(cpu.crosses100At == nil, "100% is 8.5 days away, past the 7-day horizon")
        #expect(report.stepSeconds == 3600)
        #expect(cpu.forecast?.points.count == 7 * 24)
        #expect(report.findings.contains { $0.severity == .warning && $0.text.hasPrefix("CPU on node-1 reaches 80%") })
    }

    @Test func flatSeriesNeverCrosses() async throws {
        let report = try await syntheticReport.value
        let memory = try #require(report.nodes.first?.resources.first { $0.kind == .memory })
        #expect(memory.crosses80At == nil)
        #expect(memory.crosses100At == nil)
        let used = try #require(memory.used)
        #expect(abs(used.p50 - 0.3) < 0.02)
        #expect(used.max <= 0.31)
        let forecast = try #require(memory.forecast)
        #expect(forecast.points.allSatisfy { abs($0.mean - 0.3) < 0.05 }, "\(forecast.model)")
    }

    @Test func tenantQuotaExhaustionDate() async throws {
        let report = try await syntheticReport.value
        let tenant = try #require(report.tenants.first { $0.tenant == "acme" })
        let cpu = try #require(tenant.resources.first { $0.kind == .cpu })
        #expect(cpu.quota == 8)
        #expect(abs(cpu.current - 6.2) < 1e-9)
        let exhausted = try #require(cpu.exhaustedAt)
        let expected = SyntheticCluster.now + 6 * SyntheticCluster.day
        #expect(abs(exhausted - expected) <= 12 * 3600, "exhausted at \(exhausted), expected \(expected) ± 12 h")
        #expect(tenant.resources.first { $0.kind == .memory }?.exhaustedAt == nil, "memory is flat at 4 GB of 64 GiB")
        #expect(tenant.exhaustedAt == exhausted)
    }

    @Test func headroomAndStrandedFromRequests() async throws {
        let report = try await syntheticReport.value
        let room = try #require(report.headroom.first)
        // 8 cores, 16 GiB; 4 cores and 60% of memory reserved; shape 1 core, 2 GiB: memory allows 3.
        #expect(room.cpu == 1 && room.memory == Double(2 << 30))
        #expect(room.fitNow == 3)
        // At the forecast peak (CPU ~0.94 of 8 cores) about 0.5 cores are left: none fit.
        #expect(room.fitAtPeak == 0)
        // Reserved 50% CPU, used 38% on average: about 0.96 cores reserved but idle.
        #expect(abs(report.stranded.reservedIdleCPU - (0.5 - 0.38) * 8) < 0.1)
        // Reclaimable: CPU use is forecast to climb past its 50% reservation, so none; memory is reserved
        // 60% and flat at 30%, so about 30% of 16 GiB is forecast idle inside the reservation.
        let node = try #require(report.stranded.nodes.first)
        #expect(node.reclaimableCPU == 0)
        let memory = try #require(node.reclaimableMemory)
        #expect(abs(memory - 0.3 * Double(16 << 30)) < 0.05 * Double(16 << 30), "\(memory)")
        #expect(report.markdown().contains("## Reclaimable"))
    }

    @Test func shortHistoryHasNoForecastButStillReports() async throws {
        let history = try UsageHistory(path: nil)
        let cluster = try await SyntheticCluster()
        let now = SyntheticCluster.now
        try await history.record(node: "node-1", [.init(time: now - 20, cpu: 0.2, memory: 0.2, io: 0)])
        let report = try await CapacityReport.build(
            snapshot: cluster.snapshot, history: history, options: CapacityReportOptions(now: now, horizonSeconds: 600))
        let cpu = try #require(report.cluster.resources.first)
        #expect(cpu.forecast == nil)
        #expect(cpu.used?.max == 0.2)
        #expect(report.html().contains("not enough history"))
    }
}
