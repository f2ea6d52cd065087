/// A problem with one input value: which field, what was given, and why it is wrong.
public struct ValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// Byte quantities as operators write them: `512`, `64M` (10^6), `64Mi` (2^20), `1.5G`, `2GiB`, `max`.
///
/// Decimal suffixes (k/K, M, G, T) are powers of 1000 and binary ones (Ki, Mi, Gi, Ti) powers of 1024, as in
/// Kubernetes; a trailing `B` is allowed on either.
public enum ByteSize {
    private static let suffixes: [(String, Double)] = [
        ("ki", 1024), ("mi", 1024 * 1024), ("gi", 1024 * 1024 * 1024), ("ti", 1024 * 1024 * 1024 * 1024),
        ("k", 1e3), ("m", 1e6), ("g", 1e9), ("t", 1e12), ("", 1),
    ]

    /// Parses a size; `nil` stands for unlimited ("max").
    public static func parse(_ text: String, field: String = "") throws(ValueError) -> UInt64? {
        let trimmed = text.trimmingSpaces().lowercased()
        if trimmed == "max" || trimmed == "unlimited" { return nil }
        var body = Substring(trimmed)
        if body.hasSuffix("b") { body = body.dropLast() }
        for (suffix, factor) in suffixes where body.hasSuffix(suffix) {
            let number = body.dropLast(suffix.count)
            guard !number.isEmpty, let value = Double(number), value >= 0, value.isFinite else { break }
            let bytes = (value * factor).rounded()
            guard bytes < 1.8e19 else { break }
            return UInt64(bytes)
        }
        throw ValueError(field: field, message: "\"\(text)\" is not a size (examples: 512Mi, 2G, 1048576, max)")
    }

    /// A short human form: `64.0 MiB`.
    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\((value * 10).rounded() / 10) \(units[unit])"
    }
}

/// CPU quantities: `0.5`, `2`, `1500m` (millicores).
public enum CPUQuantity {
    public static func parse(_ text: String, field: String = "") throws(ValueError) -> Double {
        let trimmed = text.trimmingSpaces()
        let value: Double?
        if trimmed.hasSuffix("m") {
            value = Double(trimmed.dropLast()).map { $0 / 1000 }
        } else {
            value = Double(trimmed)
        }
        guard let cores = value, cores > 0, cores.isFinite, cores <= 4096 else {
            throw ValueError(field: field, message: "\"\(text)\" is not a CPU amount (examples: 0.5, 2, 250m)")
        }
        return cores
    }
}

/// Durations: `10s`, `500ms`, `1m30s`, `2h`, `1.5s`; a bare number is seconds. At most ten years: a longer
/// one is a typo, and would not fit the microsecond counts durations are kept in.
public enum DurationText {
    private static let units: [Substring: Double] = [
        "us": 0.000_001, "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400,
    ]
    public static let maximumSeconds = 10 * 365 * 86_400.0

    public static func parse(_ text: String, field: String = "") throws(ValueError) -> Duration {
        let bad = ValueError(field: field, message: "\"\(text)\" is not a duration (examples: 10s, 500ms, 1m30s, 14d)")
        var rest = Substring(text.trimmingSpaces())
        var seconds = 0.0
        if let plain = Double(rest) {
            guard plain >= 0, plain.isFinite else { throw bad }
            seconds = plain
        } else {
            guard !rest.isEmpty else { throw bad }
            while !rest.isEmpty {
                let number = rest.prefix { $0.isNumber || $0 == "." }
                rest = rest.dropFirst(number.count)
                let unit = rest.prefix { $0.isLetter }
                rest = rest.dropFirst(unit.count)
                guard let value = Double(number), let factor = units[unit] else { throw bad }
                seconds += value * factor
            }
        }
        guard seconds <= maximumSeconds else {
            throw ValueError(field: field, message: "\"\(text)\" is longer than ten years")
        }
        return .microseconds(Int64((seconds * 1_000_000).rounded()))
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}

extension Duration {
    /// The duration in seconds, as a Double (for arithmetic with epoch times and rates).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a Double.
    public var inMilliseconds: Double { inSeconds * 1000 }

    /// Whole milliseconds, rounded down (for wire formats that carry integers).
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
