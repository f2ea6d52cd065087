import SystemSupport

extension Cgroup {
    /// How much to read: `.full` for everything; `.summary` for a task's final report (CPU time, memory
    /// peak, OOM kills, I/O bytes, PSI totals), which skips current values, op counts and pids; `.usage` for
    /// a supervisor's periodic sample of many tasks (CPU time, memory current, I/O bytes, pids), four files
    /// on any host.
    public enum Detail: Sendable { case full, summary, usage }

    /// Reads what the cgroup has used, from whichever tree provides each figure on this host:
    /// v2 everything on pure v2; on hybrid hosts cpu.stat and PSI from v2, memory/pids/blkio from v1;
    /// on pure v1 cpuacct, memory, pids and blkio. Files the kernel lacks leave their fields empty.
    public func stats(_ detail: Detail = .full) -> CgroupStats {
        if detail == .usage { return usage() }
        var stats = CgroupStats()
        let full = detail == .full
        if let dir = unifiedPath {
            readUnifiedCPU(dir, into: &stats)
            stats.cpuPressure = FileIO.readIfPresent(dir + "/cpu.pressure").map(PressureStat.parse)
            stats.memoryPressure = FileIO.readIfPresent(dir + "/memory.pressure").map(PressureStat.parse)
            stats.ioPressure = FileIO.readIfPresent(dir + "/io.pressure").map(PressureStat.parse)
            if host.mode == .unified { readUnifiedResources(dir, full: full, into: &stats) }
        }
        if host.mode != .unified { readLegacy(full: full, into: &stats) }
        return stats
    }

    private func readUnifiedCPU(_ dir: String, into stats: inout CgroupStats) {
        guard let text = FileIO.readIfPresent(dir + "/cpu.stat") else { return }
        let cpu = CgroupFormat.keyValues(text)
        stats.cpuUsageUsec = cpu["usage_usec"] ?? 0
        stats.cpuUserUsec = cpu["user_usec"] ?? 0
        stats.cpuSystemUsec = cpu["system_usec"] ?? 0
        stats.cpuPeriods = cpu["nr_periods"] ?? 0
        stats.cpuThrottledPeriods = cpu["nr_throttled"] ?? 0
        stats.cpuThrottledUsec = cpu["throttled_usec"] ?? 0
    }

    private func readUnifiedResources(_ dir: String, full: Bool, into stats: inout CgroupStats) {
        stats.memoryPeakBytes = FileIO.readIfPresent(dir + "/memory.peak").flatMap(CgroupFormat.number)
        if full || stats.memoryPeakBytes == nil {  // kernels before 5.19 have no memory.peak
            stats.memoryCurrentBytes = FileIO.readIfPresent(dir + "/memory.current").flatMap(CgroupFormat.number) ?? 0
        }
        if let events = FileIO.readIfPresent(dir + "/memory.events") {
            stats.oomKills = CgroupFormat.keyValues(events)["oom_kill"] ?? 0
        }
        if let io = FileIO.readIfPresent(dir + "/io.stat") {
            (stats.ioReadBytes, stats.ioWriteBytes, stats.ioReadOps, stats.ioWriteOps) = CgroupFormat.ioStat(io)
        }
        if full { stats.pidsCurrent = FileIO.readIfPresent(dir + "/pids.current").flatMap(CgroupFormat.number) ?? 0 }
    }

    private func readLegacy(full: Bool, into stats: inout CgroupStats) {
        if unifiedPath == nil, let dir = legacyPaths["cpuacct"] {
            // cpuacct counts nanoseconds
            stats.cpuUserUsec =
                (FileIO.readIfPresent(dir + "/cpuacct.usage_user").flatMap(CgroupFormat.number) ?? 0) / 1000
            stats.cpuSystemUsec =
                (FileIO.readIfPresent(dir + "/cpuacct.usage_sys").flatMap(CgroupFormat.number) ?? 0) / 1000
            stats.cpuUsageUsec = (FileIO.readIfPresent(dir + "/cpuacct.usage").flatMap(CgroupFormat.number) ?? 0) / 1000
        }
        if full, let dir = legacyPaths["cpu"], let text = FileIO.readIfPresent(dir + "/cpu.stat") {
            let cpu = CgroupFormat.keyValues(text)
            stats.cpuPeriods = cpu["nr_periods"] ?? stats.cpuPeriods
            stats.cpuThrottledPeriods = cpu["nr_throttled"] ?? stats.cpuThrottledPeriods
            if let ns = cpu["throttled_time"] { stats.cpuThrottledUsec = ns / 1000 }
        }
        if let dir = legacyPaths["memory"] {
            if full {
                stats.memoryCurrentBytes =
                    FileIO.readIfPresent(dir + "/memory.usage_in_bytes").flatMap(CgroupFormat.number) ?? 0
            }
            stats.memoryPeakBytes = FileIO.readIfPresent(dir + "/memory.max_usage_in_bytes").flatMap(
                CgroupFormat.number)
            if let oom = FileIO.readIfPresent(dir + "/memory.oom_control") {
                stats.oomKills = CgroupFormat.keyValues(oom)["oom_kill"] ?? 0
            }
        }
        if let dir = legacyPaths["blkio"] {
            if let bytes = FileIO.readIfPresent(dir + "/blkio.throttle.io_service_bytes_recursive") {
                (stats.ioReadBytes, stats.ioWriteBytes) = CgroupFormat.blkio(bytes)
            }
            if full, let ops = FileIO.readIfPresent(dir + "/blkio.throttle.io_serviced_recursive") {
                (stats.ioReadOps, stats.ioWriteOps) = CgroupFormat.blkio(ops)
            }
        }
        if full, let dir = legacyPaths["pids"] {
            stats.pidsCurrent = FileIO.readIfPresent(dir + "/pids.current").flatMap(CgroupFormat.number) ?? 0
        }
    }
}
