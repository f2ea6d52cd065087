import CorralModel

/// Bounds on what an agent may say about its node, checked before anything is stored or added up: every
/// capacity is at most `ResourceVector.unmetered` (2^60), so sums of two never overflow, and the texts
/// are short. Each problem names its field.
extension Registration {
    /// 10,000 cores: far beyond any machine, far below an overflow.
    public static let maxCPUMillis: Int64 = 10_000_000
    public static let maxLabels = 256
    public static let maxInfo = 32
    public static let maxText = 256

    public func problems() -> [ValueError] {
        var problems: [ValueError] = []
        if !(1...Self.maxCPUMillis).contains(capacity.cpuMillis) {
            problems.append(ValueError(field: "capacity.cpuMillis", message: "must be within 1...\(Self.maxCPUMillis)"))
        }
        if !(1...ResourceVector.unmetered).contains(capacity.memory) {
            problems.append(ValueError(field: "capacity.memory", message: "must be within 1...2^60"))
        }
        for (field, value) in [
            ("ioRead", capacity.ioRead), ("ioWrite", capacity.ioWrite), ("pids", capacity.pids),
        ] where !(0...ResourceVector.unmetered).contains(value) {
            problems.append(
                ValueError(field: "capacity.\(field)", message: "must be within 0...2^60 (2^60: unmetered)"))
        }
        if let weight, !(weight > 0 && weight <= 1e6) {
            problems.append(ValueError(field: "weight", message: "must be a number in (0, 1000000]"))
        }
        problems += Self.textProblems(labels, field: "labels", limit: Self.maxLabels)
        problems += Self.textProblems(info, field: "info", limit: Self.maxInfo)
        if let address, NodeAddress(address) == nil {
            problems.append(
                ValueError(field: "address", message: "\"\(address.prefix(80))\" is not http(s)://HOST:PORT"))
        }
        return problems
    }

    static func textProblems(_ map: [String: String]?, field: String, limit: Int) -> [ValueError] {
        guard let map else { return [] }
        if map.count > limit { return [ValueError(field: field, message: "at most \(limit) entries")] }
        return map.compactMap { key, value in
            key.isEmpty || key.utf8.count > maxText || value.utf8.count > maxText || (key + value).utf8.contains(0)
                ? ValueError(
                    field: "\(field).\(key.prefix(40))",
                    message: "keys 1-\(maxText) bytes, values up to \(maxText), no NUL")
                : nil
        }
    }
}

/// Where an agent serves its tasks' logs: `http://HOST:PORT` or `https://HOST:PORT` and nothing else (no
/// path, query, user or fragment), so that the scheduler's log relay, which appends its own fixed path,
/// can only ever reach that listener.
public struct NodeAddress: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, ["http", "https"].contains(parts[0]), text.utf8.count <= 300 else { return nil }
        let rest = parts[1]
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let allowed = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.:".contains($0)) }
        guard !host.isEmpty, host.count <= 253, allowed else { return nil }
        scheme = String(parts[0])
        self.host = host
        self.port = port
    }
}

extension Heartbeat {
    /// A node's load is a fraction of its capacity: finite, 0...1000 (far past any real overload).
    public func problems() -> [ValueError] {
        var problems: [ValueError] = []
        for (field, value) in [("usage.cpu", usage.cpu), ("usage.memory", usage.memory), ("usage.io", usage.io)]
        where !(value.isFinite && value >= 0 && value <= 1000) {
            problems.append(ValueError(field: field, message: "must be a finite fraction within 0...1000"))
        }
        for (index, report) in reports.enumerated() {
            if let health = report.health, health.output.utf8.count > TaskHealth.maxOutput || health.restarts < 0 {
                problems.append(
                    ValueError(
                        field: "allocations[\(index)].health",
                        message: "output at most \(TaskHealth.maxOutput) bytes, restarts not negative"))
            }
            if let network = report.network,
                network.ports.count > TaskNetwork.portLimit || (network.address?.utf8.count ?? 0) > Registration.maxText
                    || network.ports.contains(where: { $0.name.utf8.count > 64 || $0.address.utf8.count > 300 })
            {
                problems.append(
                    ValueError(
                        field: "allocations[\(index)].network",
                        message: "at most \(TaskNetwork.portLimit) ports, short names and addresses"))
            }
        }
        return problems
    }
}
