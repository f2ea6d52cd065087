import API
import Foundation
import Placement
import Scheduler
import Testing

/// The heartbeat's wire form: bare "still running" reports travel as ids in `running`.
@Suite struct HeartbeatTests {
    static let load = NodeLoad(cpu: 0.5, memory: 0.25, io: 0)

    @Test func bareRunningReportsTravelAsIdsAndComeBackAsReports() throws {
        let usage = AllocationUsage(cpuUsec: 10, memoryBytes: 20, ioReadBytes: 0, ioWriteBytes: 0, pids: 1)
        let reports = [
            AllocationReport(id: "a", state: .running),
            AllocationReport(id: "b", state: .running, usage: usage),
            AllocationReport(id: "c", state: .exited, exitCode: 0),
            AllocationReport(id: "d", state: .running),
        ]
        let beat = Heartbeat(usage: Self.load, reports: reports)
        #expect(beat.running == ["a", "d"])
        #expect(beat.allocations.map(\.id) == ["b", "c"])
        let decoded = try JSONDecoder().decode(Heartbeat.self, from: JSONEncoder().encode(beat))
        #expect(decoded == beat)
        #expect(Set(decoded.reports.map(\.id)) == ["a", "b", "c", "d"])
        #expect(decoded.reports.first { $0.id == "d" } == AllocationReport(id: "d", state: .running))
        #expect(decoded.reports.first { $0.id == "b" }?.usage == usage)
    }

    @Test func aHeartbeatWithoutRunningIdsDecodes() throws {
        let json =
            #"{"usage": {"cpu": 0.5, "memory": 0.25, "io": 0}, "allocations": [{"id": "x", "state": "running"}]}"#
        let beat = try JSONDecoder().decode(Heartbeat.self, from: Data(json.utf8))
        #expect(beat.running.isEmpty)
        #expect(beat.reports == [AllocationReport(id: "x", state: .running)])
    }
}
