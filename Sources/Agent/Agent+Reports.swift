import Cgroups
import CorralModel
import Foundation
import Sandbox
import Scheduler

/// What the agent tells the scheduler: usage sampled on the heartbeat interval, and each allocation's report.
extension Agent {
    /// Node load and per-allocation usage, at most once per heartbeat interval; log sizes kept in check
    /// (looked at for tasks that used CPU since the last sample).
    func sampleIfDue() {
        let now = Date().timeIntervalSince1970
        guard now - lastSample >= min(interval, 1) else { return }
        lastSample = now
        nodeLoad = sampler.sample(now: now)
        let limit = configuration.logLimitBytes
        // In place through the values' indices, walked by hand: `entries.indices` (and iterating the
        // dictionary) holds a second reference to its storage, so the first assignment would copy it all.
        var index = entries.startIndex
        while index != entries.endIndex {
            defer { index = entries.index(after: index) }
            guard let task = entries.values[index].task else { continue }
            let stats = task.sampleUsage()
            let ran = entries.values[index].usage?.cpuUsec != stats.cpuUsageUsec
            entries.values[index].usage = AllocationUsage(
                cpuUsec: stats.cpuUsageUsec, memoryBytes: stats.memoryCurrentBytes, ioReadBytes: stats.ioReadBytes,
                ioWriteBytes: stats.ioWriteBytes, pids: stats.pidsCurrent)
            // Only the task's own processes hold its log files, and writing costs CPU time: a task whose
            // counter stood still wrote nothing since the last look.
            guard ran else { continue }
            let logs = entries.values[index].logs
            if logs.map({ $0.largestSize > limit }) ?? true {
                TaskLogs(root: configuration.logsDir, allocation: entries.keys[index]).enforce(limit: limit, open: logs)
            }
        }
    }

    /// An ended allocation's final report, or a running one's state with its usage when that changed since
    /// the scheduler last heard it (the scheduler keeps the last usage it got). Nothing while it is still
    /// starting: it does not run yet, and an agent killed now undoes the launch when it comes back.
    static func report(_ entry: Entry) -> AllocationReport? {
        if let report = entry.stored.report { return report }
        guard entry.stored.phase == .running else { return nil }
        return AllocationReport(
            id: entry.stored.allocation.id, state: .running,
            usage: entry.usage == entry.reportedUsage ? nil : entry.usage)
    }

    /// How an ended task is reported: killed on request, or exited with the code a shell would show and,
    /// when it did not succeed, why (out of memory, timed out, the signal).
    static func report(id: String, outcome: TaskOutcome, killRequested: Bool) -> AllocationReport {
        let usage = AllocationUsage(
            cpuUsec: outcome.cpuUserUsec + outcome.cpuSystemUsec, memoryBytes: outcome.memoryPeakBytes,
            ioReadBytes: outcome.ioReadBytes, ioWriteBytes: outcome.ioWriteBytes, pids: 0)
        if killRequested {
            return AllocationReport(
                id: id, state: .killed, exitCode: outcome.shellStatus, error: "stopped at the scheduler's request",
                usage: usage, outcome: outcome)
        }
        var error: String?
        if outcome.oomKilled {
            error = "out of memory: the task reached its memory limit and the kernel killed it"
        } else if outcome.timedOut {
            error = "timed out"
        } else if let signal = outcome.signal {
            error = "killed by signal \(signal)"
        } else if let code = outcome.exitCode, code != 0 {
            error = "exit code \(code)"
        }
        return AllocationReport(
            id: id, state: .exited, exitCode: outcome.shellStatus, error: error, usage: usage, outcome: outcome)
    }
}
