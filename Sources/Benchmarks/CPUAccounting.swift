import CSandbox
import Cgroups
import Foundation
import SystemSupport

/// CPU time by process from /proc/PID/stat: a process's own (utime + stime) and that of its children
/// it has reaped (cutime + cstime). An agent reaps each sandbox's PID 1, and PID 1 reaps the task, so
/// an agent's children time is what its sandboxes' processes used.
struct ProcessCPU {
    var ownSeconds: Double
    var childrenSeconds: Double

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// nil when the process is gone or its stat file does not parse.
    static func read(_ pid: pid_t) -> ProcessCPU? {
        guard let text = FileIO.readIfPresent("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else {
            return nil
        }
        // After "(comm)": state is field 3, utime..cstime are fields 14...17.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let utime = Double(fields[11]), let stime = Double(fields[12]),
            let cutime = Double(fields[13]), let cstime = Double(fields[14])
        else { return nil }
        return ProcessCPU(
            ownSeconds: (utime + stime) / ticksPerSecond, childrenSeconds: (cutime + cstime) / ticksPerSecond)
    }

    /// The agent's spawner (argv[1] `CORRAL_SPAWNER_ARG`, its long-lived child that clones the sandboxes),
    /// whose time counts for the sandboxes: it is reaped only when the agent stops.
    static func spawners(of agent: pid_t) -> [pid_t] {
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(agent)/task")) ?? []
        let children = threads.flatMap { tid in
            (FileIO.readIfPresent("/proc/\(agent)/task/\(tid)/children") ?? "").split(separator: " ").compactMap {
                pid_t($0)
            }
        }
        return children.filter { child in
            let cmdline = FileIO.readIfPresent("/proc/\(child)/cmdline") ?? ""
            return cmdline.split(separator: "\0").dropFirst().first.map(String.init) == CORRAL_SPAWNER_ARG
        }
    }
}

/// Where the machine's CPU went over a measured phase, in milliseconds per task: the scheduler, the
/// agents themselves, their sandboxes (the spawners' clones, PID 1 and the task), and the rest of the
/// host (the kernel's workers, which finish tearing down namespaces and cgroups, and the bench's own
/// client).
public struct CPUPerTask: Sendable, Encodable {
    public var scheduler: Double
    public var agents: Double
    public var sandboxes: Double
    public var other: Double
    public var total: Double

    /// The host's busy time and each process's times at the start of a phase.
    struct Mark {
        var host: (busy: UInt64, total: UInt64)
        var scheduler: ProcessCPU?
        var agents: [ProcessCPU?]
        var spawners: [pid_t: ProcessCPU]

        init(scheduler: pid_t?, agents: [pid_t]) {
            host = HostCPU.jiffies()
            self.scheduler = scheduler.flatMap(ProcessCPU.read)
            self.agents = agents.map(ProcessCPU.read)
            var spawners: [pid_t: ProcessCPU] = [:]
            for agent in agents {
                for pid in ProcessCPU.spawners(of: agent) { spawners[pid] = ProcessCPU.read(pid) }
            }
            self.spawners = spawners
        }
    }

    /// From two marks over the same processes, for `tasks` tasks.
    init(from start: Mark, to end: Mark, tasks: Int) {
        let n = Double(max(tasks, 1))
        func delta(_ a: ProcessCPU?, _ b: ProcessCPU?, _ part: (ProcessCPU) -> Double) -> Double {
            guard let a, let b else { return 0 }
            return part(b) - part(a)
        }
        scheduler = delta(start.scheduler, end.scheduler, \.ownSeconds) * 1000 / n
        agents = zip(start.agents, end.agents).map { delta($0, $1, \.ownSeconds) }.reduce(0, +) * 1000 / n
        let reaped = zip(start.agents, end.agents).map { delta($0, $1, \.childrenSeconds) }.reduce(0, +)
        let cloning = start.spawners.map { pid, first in delta(first, end.spawners[pid], \.ownSeconds) }.reduce(0, +)
        sandboxes = (reaped + cloning) * 1000 / n
        total = Double(end.host.busy - start.host.busy) / ProcessCPU.ticksPerSecond * 1000 / n
        other = max(total - scheduler - agents - sandboxes, 0)
        // Clock ticks are 10 ms: microseconds per task are all the figures can tell.
        for field in [\Self.scheduler, \.agents, \.sandboxes, \.other, \.total] {
            self[keyPath: field] = (self[keyPath: field] * 1000).rounded() / 1000
        }
    }
}
