import Forecast
import Foundation
import TestSupport
import Testing

/// Long seasonal periods (m = 288, a daily cycle in 5-minute data): STL takes the season out and a
/// non-seasonal ARIMA models the rest.
@Suite struct DecompositionTests {
    static let day = 288

    /// 10 + 3 sin(2 pi t / 288) plus AR(1) noise (phi 0.7, innovations sd 0.3), from a fixed seed.
    static func dailyCycle(days: Int) -> (y: [Double], season: (Int) -> Double) {
        var state: UInt64 = 0x2026_1202
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        let season = { (t: Int) in 3 * sin(2 * Double.pi * Double(t % day) / Double(day)) }
        var noise = 0.0
        let y = (0..<(days * day)).map { t -> Double in
            noise = 0.7 * noise + 0.3 * normal()
            return 10 + season(t) + noise
        }
        return (y, season)
    }

    @Test("a daily cycle in 5-minute data is decomposed, modelled without a seasonal ARIMA, and forecast with it")
    func dailyCycleIsDecomposedAndForecast() throws {
        let (y, season) = Self.dailyCycle(days: 5)
        let fit = try AutoARIMA().fit(y, period: Self.day)
        let decomposition = try #require(fit.decomposition, "no decomposition for m = 288")
        #expect(decomposition.period == Self.day)
        #expect(!fit.order.isSeasonal && fit.order.period == 1, "\(fit.order)")
        #expect(fit.modelDescription.hasPrefix("STL[288] + ARIMA("), "\(fit.modelDescription)")
        let forecast = fit.forecast(Self.day)
        let errors = forecast.enumerated().map { abs($0.element.mean - (10 + season(y.count + $0.offset))) }
        // the noise's own sd is 0.42; the cycle's amplitude 3
        #expect(errors.reduce(0, +) / Double(errors.count) < 0.35, "mean error \(errors.reduce(0, +) / 288)")
        #expect(errors.max()! < 1.2, "largest error \(errors.max()!)")
        for point in forecast {
            #expect(
                point.lo95 < point.lo80 && point.lo80 < point.mean && point.mean < point.hi80 && point.hi80 < point.hi95
            )
        }
    }

    @Test("a new sample equal to the forecast moves the forecast on by one step (the season's phase kept)")
    func appendingKeepsThePhase() throws {
        let (y, _) = Self.dailyCycle(days: 3)
        let fit = try AutoARIMA().fit(y, period: Self.day)
        #expect(fit.decomposition != nil)
        let before = fit.forecast(40)
        let after = fit.appending(before[0].mean).forecast(39)
        for (a, b) in zip(after, before.dropFirst()) {
            #expect(abs(a.mean - b.mean) < 1e-9 * max(1, abs(b.mean)), "\(a.mean) vs \(b.mean)")
        }
        #expect(fit.appending(1).observations == y.count + 1)
    }

    @Test("missing values are interpolated for the decomposition and left to the filter")
    func missingValues() throws {
        var (y, season) = Self.dailyCycle(days: 4)
        for t in stride(from: 100, to: y.count, by: 97) { y[t] = .nan }
        let fit = try AutoARIMA().fit(y, period: Self.day)
        #expect(fit.decomposition != nil)
        let mean = fit.forecast(1)[0].mean
        #expect(abs(mean - (10 + season(y.count))) < 1.5, "\(mean)")
    }

    @Test("fewer than two cycles: modelled without the season, not refused")
    func shortSeriesHasNoSeason() throws {
        let (y, _) = Self.dailyCycle(days: 1)
        let fit = try AutoARIMA().fit(y, period: Self.day)
        #expect(fit.decomposition == nil)
        #expect(!fit.order.isSeasonal)
    }

    @Test("on a recorded week of cluster CPU, the daily season forecasts the last day better than none")
    func recordedTraceLastDay() throws {
        var better = 0
        var lines: [String] = []
        for name in ["alibaba2018", "google2019", "azure2"] {
            let text = try String(
                contentsOfFile: datasetsDirectory + "/traces/\(name)-cpu-300s.csv", encoding: .utf8)
            let y = try CSVSeries.parse(text)
            let (train, test) = (Array(y.dropLast(Self.day)), Array(y.suffix(Self.day)))
            func error(_ fit: ARIMAFit) -> Double {
                zip(fit.forecast(Self.day), test).map { abs($0.mean - $1) }.reduce(0, +) / Double(test.count)
            }
            let seasonal = error(try AutoARIMA().fit(train, period: Self.day))
            let plain = error(try AutoARIMA().fit(train))
            lines.append("\(name): \(seasonal) vs \(plain)")
            if seasonal < plain { better += 1 }
        }
        #expect(better >= 2, "mean absolute errors of the last day, STL + ARIMA vs ARIMA: \(lines)")
    }
}
