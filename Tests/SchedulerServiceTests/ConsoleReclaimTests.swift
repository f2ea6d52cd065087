import CorralModel
import CorralProtocol
import Reports
import TestSupport
import Testing

@testable import Console

/// The console shows reclamation where it is on: a node's forecast-idle reserved capacity and what
/// reclaimable tasks hold, and a tenant's reclaimable use apart from its quota's.
@Suite struct ConsoleReclaimTests {
    @Test func aNodeWithReclamationShowsItsReclaimableCapacity() {
        var node = NodeStatus(id: "n1", capacity: ResourceVector(cpuMillis: 8000, memory: 16 << 30))
        #expect(ConsoleNodes.reclaimable(node).isEmpty, "nothing without reclamation")
        node.reclaimable = ResourceVector(cpuMillis: 2500, memory: 4 << 30)
        node.reclaimableReserved = ResourceVector(cpuMillis: 1000, memory: 1 << 30)
        let text = ConsoleNodes.reclaimable(node)
        let idle = "reclaimable \(ReportText.cores(2.5)), \(ReportText.bytes(Double(4 << 30)))"
        #expect(text.contains(idle), "\(text)")
        #expect(text.contains("reclaimable tasks hold \(ReportText.cores(1))"), "\(text)")
    }

    @Test func aTenantsReclaimableUseIsShownApart() {
        var usage = TenantUsage()
        #expect(ConsoleTenants.reclaimable(nil).isEmpty && ConsoleTenants.reclaimable(usage).isEmpty)
        usage.add(Resources(cpu: 2, memory: 1 << 30))
        #expect(ConsoleTenants.reclaimable(usage).contains("reclaimable apart: 1 tasks, \(ReportText.cores(2))"))
    }
}
