import RealModule

/// Unit-root tests for choosing the order of differencing.
enum UnitRoot {
    /// The KPSS level-stationarity statistic with `lags` Bartlett-weighted autocovariances (urca's
    /// ur.kpss type "mu").
    static func kpssStatistic(_ x: [Double], lags: Int) -> Double {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let e = x.map { $0 - mean }
        var s = 0.0
        var numerator = 0.0
        for value in e {
            s += value
            numerator += s * s
        }
        numerator /= n * n
        var s2 = e.reduce(0) { $0 + $1 * $1 } / n
        if lags > 0 {
            for k in 1...lags {
                var sum = 0.0
                for t in k..<e.count { sum += e[t] * e[t - k] }
                s2 += 2 / n * (1 - Double(k) / Double(lags + 1)) * sum
            }
        }
        return numerator / s2
    }

    /// The p-value by linear interpolation in urca's table of critical values, clamped to [0.01, 0.10].
    static func kpssPValue(_ statistic: Double) -> Double {
        let critical = [0.347, 0.463, 0.574, 0.739]
        let levels = [0.10, 0.05, 0.025, 0.01]
        if statistic <= critical[0] { return levels[0] }
        if statistic >= critical[3] { return levels[3] }
        for i in 0..<3 where statistic <= critical[i + 1] {
            let fraction = (statistic - critical[i]) / (critical[i + 1] - critical[i])
            return levels[i] + fraction * (levels[i + 1] - levels[i])
        }
        return levels[3]
    }

    /// How many first differences make `x` level-stationary by KPSS at `alpha`, at most `maxD` (forecast's
    /// ndiffs with its defaults).
    static func firstDifferences(_ x: [Double], alpha: Double = 0.05, maxD: Int = 2) -> Int {
        var x = x.filter { !$0.isNaN }
        var d = 0
        func constant(_ v: [Double]) -> Bool { v.allSatisfy { $0 == v.first } }
        func needsDifferencing(_ v: [Double]) -> Bool {
            let lags = Int((3 * Double(v.count).squareRoot() / 13).rounded(.towardZero))
            return kpssPValue(kpssStatistic(v, lags: lags)) < alpha
        }
        guard !x.isEmpty, !constant(x) else { return 0 }
        var differencing = needsDifferencing(x)
        while differencing && d < maxD {
            d += 1
            x = Series.difference(x, lag: 1)
            if x.count < 2 || constant(x) { return d }
            differencing = needsDifferencing(x)
        }
        return d
    }
}

enum Series {
    static func difference(_ x: [Double], lag: Int) -> [Double] {
        guard x.count > lag else { return [] }
        return (lag..<x.count).map { x[$0] - x[$0 - lag] }
    }

    static func variance(_ x: [Double]) -> Double {
        let values = x.filter { !$0.isNaN }
        guard values.count > 1 else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    }
}
