import CorralModel

/// Latency samples of one variant, in milliseconds.
public struct Samples: Sendable {
    public private(set) var values: [Double] = []

    public init() {}

    public mutating func add(_ duration: Duration) {
        values.append(duration.inMilliseconds)
    }

    public mutating func add(milliseconds: Double) { values.append(milliseconds) }

    /// Nearest-rank percentile, p in 0...100.
    public func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.min(Swift.max(rank, 0), sorted.count - 1)]
    }

    public var min: Double { values.min() ?? .nan }
}

/// Times one synchronous call.
@inline(__always)
public func measure(_ body: () throws -> Void) rethrows -> Duration {
    let start = ContinuousClock.now
    try body()
    return ContinuousClock.now - start
}
