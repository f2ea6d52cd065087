import CorralModel
import Foundation
import Store

/// What a capacity report covers: how far back it reads, how far ahead it forecasts, and the task
/// shapes it counts headroom in.
public struct CapacityReportOptions: Sendable {
    public struct Shape: Sendable, Equatable, Hashable {
        /// Cores and bytes.
        public var cpu: Double
        public var memory: Double

        public init(cpu: Double, memory: Double) {
            self.cpu = cpu
            self.memory = memory
        }
    }

    public var now: Double
    public var sinceSeconds: Double
    public var horizonSeconds: Double
    /// Shapes to count headroom in; empty: the three most common requests among the cluster's jobs
    /// (or one core with 1 GiB when there are none).
    public var shapes: [Shape]
    /// Most points a chart's history or forecast holds; the step grows to keep within it.
    public var maximumPoints = 400

    public init(
        now: Double = Date().timeIntervalSince1970, sinceSeconds: Double = 14 * 86_400,
        horizonSeconds: Double = 7 * 86_400, shapes: [Shape] = []
    ) {
        self.now = now
        self.sinceSeconds = sinceSeconds
        self.horizonSeconds = horizonSeconds
        self.shapes = shapes
    }

    static let niceSteps: [Double] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ]

    /// The stored resolution to read and the step to put it on, for history starting at `start`: the
    /// finest resolution still kept that far back, and a step coarse enough that neither the history
    /// nor the horizon needs more than `maximumPoints` points.
    func grid(start: Double) -> (resolution: UsageHistory.Resolution, step: Double) {
        let span = max(now - start, 1)
        let resolution: UsageHistory.Resolution = span > 2 * 86_400 ? .hour : span > 2 * 3600 ? .minute : .raw
        let wanted = max(resolution.seconds, span / Double(maximumPoints), horizonSeconds / Double(maximumPoints))
        return (resolution, Self.niceSteps.first { $0 >= wanted } ?? wanted)
    }
}

extension CapacityReportOptions {
    /// Options from their text forms (`--since 14d --horizon 7d --shape 1,2GiB`, or the same query
    /// parameters); errors name the field.
    public static func parse(
        since: String?, horizon: String?, shapes: [String], now: Double = Date().timeIntervalSince1970
    )
        throws(ValueError) -> CapacityReportOptions
    {
        func seconds(_ text: String?, _ field: String, default value: Double) throws(ValueError) -> Double {
            guard let text else { return value }
            let parsed = try DurationText.parse(text, field: field).inSeconds
            guard parsed >= 60 else { throw ValueError(field: field, message: "must be at least 1m") }
            guard parsed <= 366 * 86_400 else { throw ValueError(field: field, message: "must be at most 366d") }
            return parsed
        }
        return CapacityReportOptions(
            now: now, sinceSeconds: try seconds(since, "since", default: 14 * 86_400),
            horizonSeconds: try seconds(horizon, "horizon", default: 7 * 86_400),
            shapes: try shapes.map { text throws(ValueError) in try Shape.parse(text) })
    }
}

extension CapacityReportOptions.Shape {
    /// "CPU,MEMORY": `1,2GiB`, `500m,512MiB`.
    public static func parse(_ text: String, field: String = "shape") throws(ValueError) -> Self {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw ValueError(field: field, message: "\"\(text)\" is not CPU,MEMORY (examples: 1,2GiB or 500m,512MiB)")
        }
        let cpu = try CPUQuantity.parse(parts[0], field: field)
        guard cpu > 0, let memory = try ByteSize.parse(parts[1], field: field), memory > 0 else {
            throw ValueError(field: field, message: "\"\(text)\": CPU and memory must both be above zero")
        }
        return .init(cpu: cpu, memory: Double(memory))
    }
}
