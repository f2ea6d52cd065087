/// A cumulative histogram of durations in seconds with fixed bucket bounds, as Prometheus reads one: its
/// size never grows with what it counts.
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds (seconds, ascending); a last bucket, +Inf, holds the rest.
    public let bounds: [Double]
    /// Observations at or below each bound (not cumulative: `cumulative` adds them up), then above the last.
    public private(set) var counts: [Int]
    public private(set) var sum: Double = 0
    public private(set) var count = 0

    /// From 1 ms to 5 min: a placement takes milliseconds, a task waiting for room may take minutes.
    public static let schedulingBounds: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
    ]

    public init(bounds: [Double] = Self.schedulingBounds) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    /// Counts one duration; a negative one (a clock stepped back) counts as zero, a non-finite one not at all.
    public mutating func observe(_ seconds: Double) {
        guard seconds.isFinite else { return }
        let value = max(0, seconds)
        let bucket = bounds.firstIndex { value <= $0 } ?? bounds.count
        counts[bucket] += 1
        sum += value
        count += 1
    }

    /// Observations at or below each bound, then the total (the +Inf bucket).
    public var cumulative: [Int] {
        var running = 0
        return counts.map {
            running += $0
            return running
        }
    }
}
