/// Text and JSON forms of a TaskOutcome for command-line output.
extension TaskOutcome {
    /// `exit 0 · cpu 1.2 ms user + 0.8 ms sys · peak 2.1 MiB · io 0 B read, 0 B written · 3.4 ms`
    public var usageLine: String {
        let cpu = "cpu \(Self.ms(cpuUserUsec)) user + \(Self.ms(cpuSystemUsec)) sys"
        let io = "io \(ByteSize.format(ioReadBytes)) read, \(ByteSize.format(ioWriteBytes)) written"
        let wall = "\((durationMs * 10).rounded() / 10) ms"
        return [summary, cpu, "peak \(ByteSize.format(memoryPeakBytes))", io, wall].joined(separator: " · ")
    }

    static func ms(_ usec: UInt64) -> String { "\((Double(usec) / 100).rounded() / 10) ms" }

    /// One JSON object with every field, `null` for the absent one of exitCode/signal.
    public func jsonString() -> String {
        func field(_ value: (some Numeric)?) -> String { value.map { "\($0)" } ?? "null" }
        let pairs: [(String, String)] = [
            ("exitCode", field(exitCode)), ("signal", field(signal)), ("oomKilled", "\(oomKilled)"),
            ("timedOut", "\(timedOut)"), ("cpuUserUsec", "\(cpuUserUsec)"), ("cpuSystemUsec", "\(cpuSystemUsec)"),
            ("memoryPeakBytes", "\(memoryPeakBytes)"), ("ioReadBytes", "\(ioReadBytes)"),
            ("ioWriteBytes", "\(ioWriteBytes)"), ("durationMs", "\((durationMs * 1000).rounded() / 1000)"),
            ("cpuPressureUsec", field(cpuPressureUsec)), ("memoryPressureUsec", field(memoryPressureUsec)),
            ("ioPressureUsec", field(ioPressureUsec)),
        ]
        return "{" + pairs.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
