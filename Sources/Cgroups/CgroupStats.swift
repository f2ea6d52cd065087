/// Pressure stall information of one resource: the `some` and `full` lines of a *.pressure file.
public struct PressureStat: Sendable, Equatable, Codable {
    public struct Line: Sendable, Equatable, Codable {
        public var avg10: Double
        public var avg60: Double
        public var avg300: Double
        /// Total stall time in microseconds.
        public var totalUsec: UInt64
    }

    public var some: Line?
    public var full: Line?

    /// Parses `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` / `full ...`.
    public static func parse(_ text: String) -> PressureStat {
        var result = PressureStat()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let kind = fields.first else { continue }
            var values: [Substring: Substring] = [:]
            for field in fields.dropFirst() {
                let kv = field.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { values[kv[0]] = kv[1] }
            }
            let parsed = Line(
                avg10: values["avg10"].flatMap { Double($0) } ?? 0, avg60: values["avg60"].flatMap { Double($0) } ?? 0,
                avg300: values["avg300"].flatMap { Double($0) } ?? 0,
                totalUsec: values["total"].flatMap { UInt64($0) } ?? 0)
            if kind == "some" { result.some = parsed } else if kind == "full" { result.full = parsed }
        }
        return result
    }
}

/// What a cgroup has used. Fields the host cannot provide stay nil (or 0 for counters).
public struct CgroupStats: Sendable, Equatable, Codable {
    public var cpuUsageUsec: UInt64 = 0
    public var cpuUserUsec: UInt64 = 0
    public var cpuSystemUsec: UInt64 = 0
    public var cpuPeriods: UInt64 = 0
    public var cpuThrottledPeriods: UInt64 = 0
    public var cpuThrottledUsec: UInt64 = 0
    public var memoryCurrentBytes: UInt64 = 0
    public var memoryPeakBytes: UInt64?
    /// Processes the OOM killer killed in this cgroup.
    public var oomKills: UInt64 = 0
    public var ioReadBytes: UInt64 = 0
    public var ioWriteBytes: UInt64 = 0
    public var ioReadOps: UInt64 = 0
    public var ioWriteOps: UInt64 = 0
    public var pidsCurrent: UInt64 = 0
    public var cpuPressure: PressureStat?
    public var memoryPressure: PressureStat?
    public var ioPressure: PressureStat?

    public init() {}
}

/// Parsers for the flat and nested formats of cgroup files.
public enum CgroupFormat {
    /// `key value` lines (cpu.stat, memory.events, memory.stat, v1 memory.oom_control).
    /// Lines `key N`; a line whose value is not one unsigned number is skipped. Parsed byte by byte: it runs
    /// for every sampled task on every heartbeat.
    public static func keyValues(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        var text = text
        text.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let keyStart = i
                while i < bytes.count, bytes[i] != UInt8(ascii: " "), bytes[i] != UInt8(ascii: "\n") { i += 1 }
                let keyEnd = i
                guard i < bytes.count, bytes[i] == UInt8(ascii: " "), keyEnd > keyStart else {
                    i += 1
                    continue
                }
                i += 1
                var value: UInt64 = 0
                var valid = i < bytes.count && bytes[i] != UInt8(ascii: "\n")
                while i < bytes.count, bytes[i] != UInt8(ascii: "\n") {
                    let digit = bytes[i] &- UInt8(ascii: "0")
                    let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                    if digit > 9 || o1 || o2 { valid = false }
                    value = sum
                    i += 1
                }
                i += 1
                if valid {
                    result[String(decoding: UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd]), as: UTF8.self)] =
                        value
                }
            }
        }
        return result
    }

    /// A single number, or nil for "max" / garbage.
    public static func number(_ text: String) -> UInt64? {
        UInt64(text.split(whereSeparator: \.isWhitespace).first ?? "")
    }

    /// cpu.stat's `usage_usec`, `user_usec` and `system_usec`, read without building a dictionary: the
    /// sampler parses one cpu.stat per task every interval.
    public static func cpuTimes(_ text: String) -> (usage: UInt64, user: UInt64, system: UInt64) {
        var times: (UInt64, UInt64, UInt64) = (0, 0, 0)
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { continue }
            let key = line[..<space]
            var value: UInt64 = 0
            for byte in line[line.index(after: space)...] where byte >= 48 && byte <= 57 {
                value = value &* 10 &+ UInt64(byte - 48)
            }
            if key.elementsEqual("usage_usec".utf8) {
                times.0 = value
            } else if key.elementsEqual("user_usec".utf8) {
                times.1 = value
            } else if key.elementsEqual("system_usec".utf8) {
                times.2 = value
            }
        }
        return times
    }

    /// v2 io.stat: `MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N`, summed over devices.
    public static func ioStat(_ text: String) -> (
        readBytes: UInt64, writeBytes: UInt64, readOps: UInt64, writeOps: UInt64
    ) {
        var totals: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for line in text.split(separator: "\n") {
            for field in line.split(separator: " ").dropFirst() {
                let kv = field.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let value = UInt64(kv[1]) else { continue }
                switch kv[0] {
                case "rbytes": totals.0 += value
                case "wbytes": totals.1 += value
                case "rios": totals.2 += value
                case "wios": totals.3 += value
                default: break
                }
            }
        }
        return totals
    }

    /// v1 blkio.throttle.io_service_bytes / io_serviced: `MAJ:MIN Read N` lines (and a `Total` line).
    public static func blkio(_ text: String) -> (read: UInt64, write: UInt64) {
        var read: UInt64 = 0
        var write: UInt64 = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0].contains(":"), let value = UInt64(fields[2]) else { continue }
            if fields[1] == "Read" { read += value } else if fields[1] == "Write" { write += value }
        }
        return (read, write)
    }

    /// cgroup.events `populated` field.
    public static func populated(_ events: String) -> Bool {
        keyValues(events)["populated"].map { $0 != 0 } ?? false
    }
}
