/// An amount of every resource placement accounts for, in integers so that sums are exact:
/// CPU in millicores, memory in bytes, I/O in bytes per second, pids as a count.
public struct ResourceVector: Sendable, Hashable, Codable, CustomStringConvertible {
    public var cpuMillis: Int64
    public var memory: Int64
    public var ioRead: Int64
    public var ioWrite: Int64
    public var pids: Int64

    /// Capacity of a resource a node does not meter (no I/O limit known, say): nothing is ever short of it.
    public static let unmetered: Int64 = 1 << 60
    public static let zero = ResourceVector(cpuMillis: 0, memory: 0, ioRead: 0, ioWrite: 0, pids: 0)

    @inlinable
    public init(cpuMillis: Int64, memory: Int64, ioRead: Int64 = 0, ioWrite: Int64 = 0, pids: Int64 = 0) {
        self.cpuMillis = cpuMillis
        self.memory = memory
        self.ioRead = ioRead
        self.ioWrite = ioWrite
        self.pids = pids
    }

    /// A task's request: resources it does not ask for count as zero.
    public init(_ resources: Resources) {
        self.init(
            cpuMillis: Int64((resources.cpu * 1000).rounded(.up)), memory: Self.clamp(resources.memory),
            ioRead: Self.clamp(resources.ioReadBps ?? 0), ioWrite: Self.clamp(resources.ioWriteBps ?? 0),
            pids: Self.clamp(resources.pids ?? 0))
    }

    private static func clamp(_ value: UInt64) -> Int64 { Int64(min(value, UInt64(unmetered))) }

    @inlinable public subscript(kind: ResourceKind) -> Int64 {
        switch kind {
        case .cpu: cpuMillis
        case .memory: memory
        case .ioRead: ioRead
        case .ioWrite: ioWrite
        case .pids: pids
        }
    }

    /// True when every component of `self` is at most the same component of `other`.
    @inlinable public func fits(in other: ResourceVector) -> Bool {
        cpuMillis <= other.cpuMillis && memory <= other.memory && ioRead <= other.ioRead && ioWrite <= other.ioWrite
            && pids <= other.pids
    }

    @inlinable public static func + (a: ResourceVector, b: ResourceVector) -> ResourceVector {
        ResourceVector(
            cpuMillis: a.cpuMillis + b.cpuMillis, memory: a.memory + b.memory, ioRead: a.ioRead + b.ioRead,
            ioWrite: a.ioWrite + b.ioWrite, pids: a.pids + b.pids)
    }

    @inlinable public static func - (a: ResourceVector, b: ResourceVector) -> ResourceVector {
        ResourceVector(
            cpuMillis: a.cpuMillis - b.cpuMillis, memory: a.memory - b.memory, ioRead: a.ioRead - b.ioRead,
            ioWrite: a.ioWrite - b.ioWrite, pids: a.pids - b.pids)
    }

    public var description: String {
        func metered(_ v: Int64, _ text: String) -> String { v >= Self.unmetered ? "unmetered" : text }
        return
            "cpu \(Double(cpuMillis) / 1000), memory \(ByteSize.format(UInt64(max(memory, 0)))), "
            + "io read \(metered(ioRead, "\(ioRead) B/s")), io write \(metered(ioWrite, "\(ioWrite) B/s")), "
            + "pids \(metered(pids, "\(pids)"))"
    }
}

/// The resources placement checks, in the order reasons list them.
public enum ResourceKind: String, CaseIterable, Sendable, Codable {
    case cpu, memory, ioRead, ioWrite, pids
}
