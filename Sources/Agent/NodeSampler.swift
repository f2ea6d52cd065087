import Cgroups
import CorralModel
import Foundation
import Sandbox
import SystemSupport

/// What this node offers and how busy it is. Capacity is measured from the host unless the operator
/// declared a share of it (`--cpu`, `--memory`). Usage is a fraction of capacity per resource: from
/// /proc for a node that owns its host, from the agent's own cgroup subtree for a node that declared a
/// share (several agents on one host then each see their own load). I/O is the busiest disk's
/// utilisation (/proc/diskstats io_ticks).
struct NodeSampler {
    let capacity: ResourceVector
    let subtree: Cgroup?
    private var last: (cpuBusy: UInt64, cpuTotal: UInt64, subtreeUsec: UInt64, ioTicks: [String: UInt64], at: Double)?
    /// Where the node's stall figures are read: the host's, since whatever runs on it (Corral's tasks, or
    /// anything else) is what reclaimable tasks yield to. A task's own cgroup tree would not see a process
    /// outside it that its tasks starve.
    static let pressureDirectory = "/proc/pressure"
    private var lastStall: (cpu: UInt64, memory: UInt64, at: Double)?

    init(configuration: AgentConfiguration, host: CgroupHost) {
        let cores = configuration.cpuCores ?? Double(ProcessInfo.processInfo.activeProcessorCount)
        let memory = configuration.memoryBytes ?? UInt64(ProcessInfo.processInfo.physicalMemory)
        capacity = ResourceVector(
            cpuMillis: Int64(cores * 1000), memory: Int64(min(memory, UInt64(ResourceVector.unmetered))),
            ioRead: ResourceVector.unmetered, ioWrite: ResourceVector.unmetered,
            pids: Int64(Self.number(FileIO.readIfPresent("/proc/sys/kernel/pid_max")) ?? 32768))
        let declared = configuration.cpuCores != nil || configuration.memoryBytes != nil
        subtree = declared ? Cgroup.existing(configuration.sandbox.cgroupParent, host: host, owned: false) : nil
    }

    /// The share of wall time since the previous call in which some task waited for CPU or for memory
    /// (PSI `some`, the larger of the two); nil on the first call or without PSI.
    mutating func pressure(now: Double) -> Double? {
        func total(_ file: String) -> UInt64? {
            FileIO.readIfPresent(Self.pressureDirectory + "/" + file).map(PressureStat.parse)?.some?.totalUsec
        }
        guard let cpu = total("cpu") else { return nil }
        let memory = total("memory") ?? 0
        defer { lastStall = (cpu, memory, now) }
        guard let last = lastStall, now > last.at, cpu >= last.cpu, memory >= last.memory else { return nil }
        return min(Double(max(cpu - last.cpu, memory - last.memory)) / 1e6 / (now - last.at), 1)
    }

    /// The load since the previous call (the first call reports memory only).
    mutating func sample(now: Double) -> NodeLoad {
        let (busy, total) = HostCPU.jiffies()
        let ticks = Self.diskTicks()
        let stats = subtree?.stats(.summary)
        let subtreeUsec = stats?.cpuUsageUsec ?? 0
        defer { last = (busy, total, subtreeUsec, ticks, now) }
        var load = NodeLoad.idle
        if let stats {
            load.memory = Double(stats.memoryCurrentBytes) / Double(max(capacity.memory, 1))
        } else {
            load.memory = Self.memoryUsedFraction()
        }
        guard let last, now > last.at else { return load }
        if subtree != nil {
            let cores = Double(capacity.cpuMillis) / 1000
            load.cpu = Double(subtreeUsec &- last.subtreeUsec) / 1e6 / (now - last.at) / max(cores, 0.001)
        } else if total > last.cpuTotal {
            load.cpu = Double(busy - last.cpuBusy) / Double(total - last.cpuTotal)
        }
        let elapsedMs = (now - last.at) * 1000
        let busiest = ticks.map { name, value in Double(value &- (last.ioTicks[name] ?? value)) }.max() ?? 0
        load.io = min(busiest / elapsedMs, 1)
        load.cpu = max(load.cpu, 0)
        return load
    }

    /// 1 - MemAvailable / MemTotal.
    static func memoryUsedFraction() -> Double {
        guard let text = FileIO.readIfPresent("/proc/meminfo") else { return 0 }
        var fields: [Substring: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let value = Double(parts[1]) { fields[parts[0].dropLast()] = value }
        }
        guard let total = fields["MemTotal"], total > 0, let available = fields["MemAvailable"] else { return 0 }
        return 1 - available / total
    }

    /// io_ticks (ms spent doing I/O) of each whole disk.
    static func diskTicks() -> [String: UInt64] {
        guard let text = FileIO.readIfPresent("/proc/diskstats") else { return [:] }
        var ticks: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 13, !fields[2].hasPrefix("loop"), !fields[2].hasPrefix("ram"),
                FileIO.exists("/sys/block/" + fields[2] + "/device"), let value = UInt64(fields[12])
            else { continue }
            ticks[String(fields[2])] = value
        }
        return ticks
    }

    static func number(_ text: String?) -> Int64? {
        text.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
