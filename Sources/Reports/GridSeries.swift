import Forecast
import Foundation

/// A series on a regular time grid, `start + i * step`, NaN where nothing was recorded: what the
/// forecasts are fitted to, and what the charts draw.
struct GridSeries: Sendable {
    var start: Double
    var step: Double
    var values: [Double]

    /// The mean of the points falling in each step of [start, end].
    static func resample(_ points: [(time: Double, value: Double)], start: Double, end: Double, step: Double)
        -> GridSeries
    {
        let count = max(1, Int(((end - start) / step).rounded(.down)) + 1)
        var sums = [Double](repeating: 0, count: count)
        var counts = [Int](repeating: 0, count: count)
        for point in points where point.value.isFinite {
            let i = Int(((point.time - start) / step).rounded(.down))
            guard i >= 0, i < count else { continue }
            sums[i] += point.value
            counts[i] += 1
        }
        return GridSeries(
            start: start, step: step, values: zip(sums, counts).map { $1 == 0 ? .nan : $0 / Double($1) })
    }

    func time(_ i: Int) -> Double { start + Double(i) * step }
    var observed: [Double] { values.filter { !$0.isNaN } }
    var latest: Double? { values.last { !$0.isNaN } }

    var percentiles: CapacityReport.Percentiles? {
        let sorted = observed.sorted()
        guard !sorted.isEmpty else { return nil }
        return .init(
            p50: Self.quantile(sorted, 0.5), p95: Self.quantile(sorted, 0.95), max: sorted.last!,
            mean: sorted.reduce(0, +) / Double(sorted.count))
    }

    /// The value at `q` (0...1) of a sorted, non-empty array: the nearest of the n - 1 steps.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))]
    }

    /// Observations a model needs before the report forecasts a series.
    static let minimumObservations = 12

    /// Auto-ARIMA over the observed span, forecast `steps` ahead with 80%/95% bands, never below zero.
    /// Hourly series with three days or more get a daily season. A series no model fits (constant,
    /// say) is forecast flat at its recent mean, and the model text says so.
    func forecast(steps: Int) -> CapacityReport.Forecast? {
        guard let first = values.firstIndex(where: { !$0.isNaN }), let last = values.lastIndex(where: { !$0.isNaN })
        else { return nil }
        let span = Array(values[first...last])
        let count = span.filter { !$0.isNaN }.count
        guard count >= Self.minimumObservations, steps > 0 else { return nil }
        let period = step == 3600 && count >= 72 ? 24 : 1
        let origin = time(last)
        func band(_ i: Int, _ mean: Double, _ lo80: Double, _ hi80: Double, _ lo95: Double, _ hi95: Double)
            -> CapacityReport.Band
        {
            .init(
                time: origin + Double(i + 1) * step, mean: max(0, mean), lo80: max(0, lo80), hi80: max(0, hi80),
                lo95: max(0, lo95), hi95: max(0, hi95))
        }
        let points: [CapacityReport.Band]
        let model: String
        do {
            let fit = try AutoARIMA().fit(span, period: period)
            points = fit.forecast(steps).enumerated().map { band($0, $1.mean, $1.lo80, $1.hi80, $1.lo95, $1.hi95) }
            model = fit.modelDescription + (fit.constant == .none ? "" : " with \(fit.constant.rawValue)")
        } catch {
            let recent = span.suffix(Self.minimumObservations).filter { !$0.isNaN }
            let mean = recent.reduce(0, +) / Double(recent.count)
            let variance = recent.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, recent.count - 1))
            let sd = variance.squareRoot()
            points = (0..<steps).map {
                band($0, mean, mean - 1.28 * sd, mean + 1.28 * sd, mean - 1.96 * sd, mean + 1.96 * sd)
            }
            let constant = Set(span.filter { !$0.isNaN }).count == 1
            model = "flat at the recent mean (\(constant ? "constant series" : "no ARIMA model fits: \(error)"))"
        }
        return .init(model: model, points: points, peak: points.map(\.mean).max() ?? 0)
    }

    /// When the series reaches `threshold`: now, if its latest observation has; else the first
    /// forecast point whose `value` has; nil when neither does.
    func crossing(
        _ threshold: Double, forecast: CapacityReport.Forecast?, now: Double,
        by value: (CapacityReport.Band) -> Double = \.mean
    )
        -> Double?
    {
        if let latest, latest >= threshold { return now }
        return forecast?.points.first { value($0) >= threshold }?.time
    }
}
