/// Anomaly detection from forecasts: a value outside its one-step-ahead 95% forecast interval for
/// `required` samples in a row is anomalous (one excursion is noise a 95% interval lets through one
/// time in twenty). Pure: the caller supplies each forecast and the value that followed it.
public struct IntervalAnomaly: Sendable, Equatable {
    /// Consecutive samples outside the interval that make an anomaly.
    public let required: Int
    /// The interval's half-width is never taken below this (utilisation 0-1): a very smooth series would
    /// otherwise call its first ripple an anomaly.
    public let minimumHalfWidth: Double
    /// Samples outside the interval in a row, up to now.
    public private(set) var outside = 0
    /// The last value judged, and the interval it was judged against.
    public private(set) var last: (value: Double, low: Double, high: Double)?

    public init(required: Int = 3, minimumHalfWidth: Double = 0.05) {
        self.required = max(1, required)
        self.minimumHalfWidth = minimumHalfWidth
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.required == b.required && a.outside == b.outside && a.minimumHalfWidth == b.minimumHalfWidth
    }

    /// Judges `value` against the forecast made before it (`mean`, 95% `halfWidth`); true while anomalous.
    @discardableResult
    public mutating func observe(_ value: Double, mean: Double, halfWidth: Double) -> Bool {
        guard value.isFinite, mean.isFinite, halfWidth.isFinite else { return isAnomalous }
        let width = max(halfWidth, minimumHalfWidth)
        last = (value, mean - width, mean + width)
        outside = abs(value - mean) > width ? outside + 1 : 0
        return isAnomalous
    }

    public var isAnomalous: Bool { outside >= required }

    /// Forgets the run (a new model, whose intervals the old run was not judged against).
    public mutating func reset() { outside = 0 }
}
