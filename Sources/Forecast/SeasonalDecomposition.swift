/// Long seasonal periods (a daily cycle in 5-minute data, m = 288): a seasonal ARIMA would carry a state
/// of m + 1 values and lose m observations to the seasonal difference, and R refuses m > 350. As the
/// forecast package's stlm does instead: STL takes the seasonal component out, a non-seasonal ARIMA
/// models what is left, and forecasts add the seasonal component's last cycle back (its seasonal naive
/// forecast), so the intervals are the ARIMA's.
public struct SeasonalDecomposition: Sendable, Equatable {
    public let period: Int
    /// The seasonal component's last full cycle: `cycle[t % period]` for observation t (from 0).
    let cycle: [Double]

    /// The seasonal component at observation `index` (0 is the series' first).
    func value(at index: Int) -> Double { cycle[index % period] }

    /// Decomposes `y` (at least two cycles; missing values interpolated for the decomposition only) and
    /// returns the seasonally adjusted series, missing where `y` is, with the decomposition.
    static func adjust(_ y: [Double], period: Int) throws(ForecastError) -> (
        adjusted: [Double], decomposition: SeasonalDecomposition
    ) {
        guard period > 1, y.count >= 2 * period else {
            throw ForecastError.tooShort(
                "a seasonal decomposition of period \(period) needs two cycles (\(2 * period) values)")
        }
        let filled = try interpolated(y)
        let (seasonal, _) = STL.decompose(filled, period: period)
        var cycle = [Double](repeating: 0, count: period)
        for t in (y.count - period)..<y.count { cycle[t % period] = seasonal[t] }
        let adjusted = (0..<y.count).map { y[$0].isNaN ? Double.nan : y[$0] - seasonal[$0] }
        return (adjusted, SeasonalDecomposition(period: period, cycle: cycle))
    }

    /// Missing values filled by linear interpolation between their neighbours (the nearest value at the ends).
    static func interpolated(_ y: [Double]) throws(ForecastError) -> [Double] {
        let known = y.indices.filter { !y[$0].isNaN }
        guard let first = known.first, let last = known.last else {
            throw ForecastError.invalidInput("the series has no values")
        }
        var result = y
        for t in 0..<first { result[t] = y[first] }
        for t in (last + 1)..<max(last + 1, y.count) { result[t] = y[last] }
        for (a, b) in zip(known, known.dropFirst()) where b > a + 1 {
            for t in (a + 1)..<b { result[t] = y[a] + (y[b] - y[a]) * Double(t - a) / Double(b - a) }
        }
        return result
    }
}
