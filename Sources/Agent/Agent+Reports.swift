import Cgroups
import CorralModel
import CorralProtocol
import Foundation
import Sandbox

/// What the agent tells the scheduler: usage sampled on the heartbeat interval, and each allocation's report.
extension Agent {
    /// Node load and per-allocation usage, at most once per heartbeat interval; logs the trimmer does not
    /// watch kept in bound (looked at for tasks that used CPU since the last sample).
    func sampleIfDue() {
        let now = Date().timeIntervalSince1970
        guard now - lastSample >= min(interval, 1) else { return }
        lastSample = now
        let begun = ContinuousClock.now
        defer { metrics.sampled(in: ContinuousClock.now - begun) }
        nodeLoad = sampler.sample(now: now)
        relieve(now: now)
        let limit = configuration.logLimitBytes
        // In place through the values' indices, walked by hand: `entries.indices` (and iterating the
        // dictionary) holds a second reference to its storage, so the first assignment would copy it all.
        var index = entries.startIndex
        while index != entries.endIndex {
            defer { index = entries.index(after: index) }
            guard let task = entries.values[index].task else { continue }
            let stats = task.sampleUsage()
            let ran = entries.values[index].usage?.cpuUsec != stats.cpuUsageUsec
            let disk = entries.values[index].allocation.resources.disk.flatMap { _ in
                WorkDirectory.usedBytes(workDirectory(entries.keys[index]))
            }
            entries.values[index].usage = AllocationUsage(
                cpuUsec: stats.cpuUsageUsec, memoryBytes: stats.memoryCurrentBytes, ioReadBytes: stats.ioReadBytes,
                ioWriteBytes: stats.ioWriteBytes, pids: stats.pidsCurrent, diskBytes: disk)
            // Only the task's own processes hold its log files, and writing costs CPU time: a task whose
            // counter stood still wrote nothing since the last look.
            guard ran else { continue }
            // The trimmer keeps watched logs in bound as they are written; these are the rest.
            if let logs = entries.values[index].logs, logs.needsTrimming { logs.trim(keep: limit) }
        }
    }

    /// An ended allocation's final report, or a running one's state with its usage when that changed since
    /// the scheduler last heard it (the scheduler keeps the last usage it got). Nothing while it is still
    /// starting: it does not run yet, and an agent killed now undoes the launch when it comes back.
    static func report(_ entry: Entry) -> AllocationReport? {
        let checkpoint = entry.checkpoint.status == entry.checkpoint.reported ? nil : entry.checkpoint.status
        switch entry.machine.state {
        case .ended:
            guard var report = entry.machine.report else { return nil }
            report.checkpoint = checkpoint
            return report
        case .running:
            // The network goes with every report until one with usage was delivered (that one carried it too).
            return AllocationReport(
                id: entry.allocation.id, state: .running, usage: entry.usage == entry.reportedUsage ? nil : entry.usage,
                network: entry.reportedUsage == nil ? entry.network?.view : nil,
                health: entry.health == entry.reportedHealth ? nil : entry.health, checkpoint: checkpoint)
        case .accepted, .launching, .released: return nil
        }
    }
}
