import CorralModel
import CorralProtocol
import Foundation
import TestSupport
import Testing

/// The heartbeat's wire form: bare "still running" reports travel as ids in `running`.
@Suite struct HeartbeatTests {
    static let load = NodeLoad(cpu: 0.5, memory: 0.25, io: 0)

    @Test func bareRunningReportsTravelAsIdsAndComeBackAsReports() throws {
        let usage = AllocationUsage(cpuUsec: 10, memoryBytes: 20, ioReadBytes: 0, ioWriteBytes: 0, pids: 1)
        let reports = [
            AllocationReport(id: "a.0.1", state: .running),
            AllocationReport(id: "b.0.1", state: .running, usage: usage),
            AllocationReport(id: "c.0.1", state: .exited, exitCode: 0),
            AllocationReport(id: "d.0.1", state: .running),
        ]
        let beat = Heartbeat(usage: Self.load, reports: reports)
        #expect(beat.running == ["a.0.1", "d.0.1"])
        #expect(beat.allocations.map(\.id) == ["b.0.1", "c.0.1"])
        let decoded = try JSONDecoder().decode(Heartbeat.self, from: JSONEncoder().encode(beat))
        #expect(decoded == beat)
        #expect(Set(decoded.reports.map(\.id)) == ["a.0.1", "b.0.1", "c.0.1", "d.0.1"])
        #expect(decoded.reports.first { $0.id == "d.0.1" } == AllocationReport(id: "d.0.1", state: .running))
        #expect(decoded.reports.first { $0.id == "b.0.1" }?.usage == usage)
    }

    @Test func aHeartbeatWithoutRunningIdsDecodes() throws {
        let json =
            #"{"usage": {"cpu": 0.5, "memory": 0.25, "io": 0}, "allocations": [{"id": "x.0.1", "state": "running"}]}"#
        let beat = try JSONDecoder().decode(Heartbeat.self, from: Data(json.utf8))
        #expect(beat.running.isEmpty)
        #expect(beat.reports == [AllocationReport(id: "x.0.1", state: .running)])
    }

    @Test func aReportedHealthOutputOrNetworkPastItsBoundIsRefusedByField() throws {
        let long = String(repeating: "é", count: TaskHealth.maxOutput)
        let json = """
            {"usage": {"cpu": 0.5, "memory": 0.25, "io": 0}, "allocations": [
              {"id": "x.0.1", "state": "running", "health": {"status": "healthy", "output": "\(long)", "restarts": 0}},
              {"id": "y.0.1", "state": "running", "network": {"mode": "bridge", "address": "\(long)", "ports": []}}]}
            """
        let beat = try JSONDecoder().decode(Heartbeat.self, from: Data(json.utf8))
        #expect(beat.problems().map(\.field) == ["allocations[0].health", "allocations[1].network"])
        // The agent's own reports are cut to the bound, on a character boundary.
        let clipped = TaskHealth(status: .healthy, output: long)
        #expect(clipped.output.utf8.count <= TaskHealth.maxOutput && clipped.output.hasSuffix("é..."))
        #expect(
            Heartbeat(usage: Self.load, reports: [.init(id: "x.0.1", state: .running, health: clipped)]).problems()
                .isEmpty)
    }
}
