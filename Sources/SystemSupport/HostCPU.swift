/// The whole host's CPU time, from the first line of /proc/stat: what the agent reports as node load
/// where it has no cgroup subtree of its own, and what benchmarks watch to start on a quiet machine.
public enum HostCPU {
    /// Busy and total jiffies since boot (idle and iowait are not busy); (0, 0) if /proc/stat is unreadable.
    public static func jiffies() -> (busy: UInt64, total: UInt64) {
        guard let line = FileIO.readIfPresent("/proc/stat")?.split(separator: "\n").first else { return (0, 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 5 else { return (0, 0) }
        let total = values.prefix(8).reduce(0, +)
        let idle = values[3] + values[4]  // idle + iowait
        return (total - idle, total)
    }

    /// Waits until the host is at most `busy` (0...1) busy over a whole `window`, or `limit` has passed;
    /// returns whether it got quiet. The kernel finishes tearing down namespaces and cgroups in its own
    /// workers after the processes are gone, and a measurement started before that shares the CPU with it.
    public static func waitUntilQuiet(
        busy: Double = 0.1, window: Duration = .milliseconds(500), limit: Duration = .seconds(30)
    ) async -> Bool {
        let deadline = ContinuousClock.now + limit
        var last = jiffies()
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: window)
            let now = jiffies()
            defer { last = now }
            guard now.total > last.total else { continue }
            if Double(now.busy - last.busy) / Double(now.total - last.total) <= busy { return true }
        }
        return false
    }
}
