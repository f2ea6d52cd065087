import Cgroups
import CorralProtocol
import Foundation
import Logging
import Sandbox

/// Pressure relief at the expense of reclaimable tasks alone (`PressureRelief` decides, this carries out).
extension Agent {
    /// After each sample: the node's pressure since the last one, and what relief makes of it.
    func relieve(now: Double) {
        guard var relief, let pressure = sampler.pressure(now: now) else { return }
        self.pressure = pressure
        var candidates: [PressureRelief.Candidate] = []
        for (id, entry) in entries
        where entry.allocation.reclaimable == true && entry.machine.state == .running && !entry.machine.killRequested
            && entry.task != nil
        {
            // Started later is newer: the process's start time (clock ticks after boot) orders them.
            candidates.append(PressureRelief.Candidate(id: id, started: Double(entry.adoption?.startTime ?? 0)))
        }
        let actions = relief.observe(pressure: pressure, at: now, reclaimable: candidates)
        self.relief = relief
        for action in actions {
            switch action {
            case .yield(let id):
                metrics.yields += 1
                setYielding(id, true)
            case .restore(let id):
                setYielding(id, false)
            case .evict(let id, let reason):
                metrics.evictions += 1
                logger.notice("evicting a reclaimable task", metadata: ["allocation": "\(id)", "reason": "\(reason)"])
                handle(.evict(reason), id)
            }
        }
    }

    /// A yielding task's soft memory limit: what it holds now (it may not grow, and the kernel takes from
    /// it first), at least 16 MiB so that a task caught starting is not starved outright.
    static let yieldingMemoryFloor: UInt64 = 16 << 20

    func setYielding(_ id: AllocationID, _ yielding: Bool) {
        guard let entry = entries[id], let task = entry.task else { return }
        let memory = yielding ? max(entry.usage?.memoryBytes ?? 0, Self.yieldingMemoryFloor) : nil
        do {
            try task.cgroup.setYielding(yielding, memoryBytes: memory)
            logger.info(
                yielding ? "a reclaimable task yields" : "a reclaimable task stops yielding",
                metadata: ["allocation": "\(id)", "memoryHigh": "\(memory.map { "\($0)" } ?? "max")"])
        } catch {
            logger.warning(
                "cannot change a reclaimable task's weight", metadata: ["allocation": "\(id)", "error": "\(error)"])
        }
    }
}
