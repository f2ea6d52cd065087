/// How a task ended and what it used: the final report of one sandboxed run.
public struct TaskOutcome: Codable, Sendable, Equatable {
    /// Exit code when the task exited, nil when a signal ended it.
    public var exitCode: Int32?
    /// Signal number when a signal ended the task.
    public var signal: Int32?
    /// The kernel's OOM killer killed a process of the task (memory.events oom_kill or v1 oom_control).
    public var oomKilled: Bool
    /// The task ran past its timeout and Corral stopped it.
    public var timedOut: Bool
    public var cpuUserUsec: UInt64
    public var cpuSystemUsec: UInt64
    public var memoryPeakBytes: UInt64
    public var ioReadBytes: UInt64
    public var ioWriteBytes: UInt64
    public var durationMs: Double
    /// Pressure stall totals (`some`, microseconds) of the task's cgroup; nil where the kernel has no
    /// per-cgroup PSI (pure v1, or PSI disabled).
    public var cpuPressureUsec: UInt64?
    public var memoryPressureUsec: UInt64?
    public var ioPressureUsec: UInt64?

    public init(
        exitCode: Int32?, signal: Int32?, oomKilled: Bool, timedOut: Bool, cpuUserUsec: UInt64 = 0,
        cpuSystemUsec: UInt64 = 0, memoryPeakBytes: UInt64 = 0, ioReadBytes: UInt64 = 0, ioWriteBytes: UInt64 = 0,
        durationMs: Double = 0
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.oomKilled = oomKilled
        self.timedOut = timedOut
        self.cpuUserUsec = cpuUserUsec
        self.cpuSystemUsec = cpuSystemUsec
        self.memoryPeakBytes = memoryPeakBytes
        self.ioReadBytes = ioReadBytes
        self.ioWriteBytes = ioWriteBytes
        self.durationMs = durationMs
    }

    /// The exit code a shell would show: the code, or 128 + signal.
    public var shellStatus: Int32 { exitCode ?? (128 + (signal ?? 0)) }

    /// One line for humans: `exit 0`, `killed by signal 9 (OOM)`, `timed out`.
    public var summary: String {
        var words: [String]
        if let code = exitCode {
            words = ["exit \(code)"]
        } else {
            words = ["killed by signal \(signal ?? 0)"]
        }
        if oomKilled { words.append("(out of memory)") }
        if timedOut { words.append("(timed out)") }
        return words.joined(separator: " ")
    }
}

/// How the task's process ended, as PID 1 reports it: `exit N` or `signal N`.
public enum ExitStatus: Equatable, Sendable, Hashable {
    case exited(Int32)
    case signaled(Int32)

    /// Parses PID 1's status line; nil when it is not one.
    public init?(statusLine: String) {
        let parts = statusLine.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let value = Int32(parts[1]) else { return nil }
        switch parts[0] {
        case "exit": self = .exited(value)
        case "signal": self = .signaled(value)
        default: return nil
        }
    }
}
