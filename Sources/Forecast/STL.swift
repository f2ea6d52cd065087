/// STL, seasonal-trend decomposition by loess (Cleveland et al. 1990), as R's stl() computes it without
/// robustness iterations; and the seasonal-strength test auto.arima uses for the seasonal differencing.
enum STL {
    /// Seasonal and trend components. Windows as R's defaults for a numeric `seasonalWindow`.
    static func decompose(_ y: [Double], period: Int, seasonalWindow: Int = 11) -> (seasonal: [Double], trend: [Double])
    {
        func nextOdd(_ x: Int) -> Int { x % 2 == 0 ? x + 1 : x }
        let np = max(2, period)
        let ns = nextOdd(max(3, seasonalWindow))
        let tWindow = Int((1.5 * Double(period) / (1 - 1.5 / Double(seasonalWindow))).rounded(.up))
        let nt = nextOdd(max(3, nextOdd(tWindow)))
        let nl = nextOdd(max(3, nextOdd(period)))
        func jump(_ window: Int) -> Int { Int((Double(window) / 10).rounded(.up)) }
        // jumps from R's (pre-adjustment) windows
        let (sJump, tJump, lJump) = (jump(seasonalWindow), jump(nextOdd(tWindow)), jump(nextOdd(period)))
        let n = y.count
        var trend = [Double](repeating: 0, count: n)
        var season = [Double](repeating: 0, count: n)
        for _ in 0..<2 {  // inner iterations
            let detrended = (0..<n).map { y[$0] - trend[$0] }
            let cycle = subseriesSmooth(detrended, np: np, ns: ns, jump: sJump)  // length n + 2 np
            let filtered = movingAverages(cycle, np: np)  // length n
            let lowPass = smooth(filtered, window: nl, degree: 1, jump: lJump, weights: nil)
            for i in 0..<n { season[i] = cycle[np + i] - lowPass[i] }
            let deseasoned = (0..<n).map { y[$0] - season[$0] }
            trend = smooth(deseasoned, window: nt, degree: 1, jump: tJump, weights: nil)
        }
        return (season, trend)
    }

    /// F_s = max(0, min(1, 1 - var(remainder) / var(remainder + seasonal))).
    static func seasonalStrength(_ y: [Double], period: Int) -> Double {
        let (seasonal, trend) = decompose(y, period: period)
        let remainder = (0..<y.count).map { y[$0] - seasonal[$0] - trend[$0] }
        let detrended = (0..<y.count).map { remainder[$0] + seasonal[$0] }
        let total = Series.variance(detrended)
        guard total > 0 else { return 0 }
        return max(0, min(1, 1 - Series.variance(remainder) / total))
    }

    /// Each cycle-subseries smoothed (degree 0 loess) and extended one period at each end.
    static func subseriesSmooth(_ y: [Double], np: Int, ns: Int, jump: Int) -> [Double] {
        let n = y.count
        var season = [Double](repeating: 0, count: n + 2 * np)
        for j in 0..<np {
            let k = (n - j - 1) / np + 1
            let sub = (0..<k).map { y[$0 * np + j] }
            var work2 = [Double](repeating: 0, count: k + 2)
            let smoothed = smooth(sub, window: ns, degree: 0, jump: jump, weights: nil)
            for i in 0..<k { work2[i + 1] = smoothed[i] }
            work2[0] = estimate(sub, window: ns, degree: 0, at: 0, left: 1, right: min(ns, k), weights: nil) ?? work2[1]
            work2[k + 1] =
                estimate(
                    sub, window: ns, degree: 0, at: Double(k + 1), left: max(1, k - ns + 1), right: k, weights: nil)
                ?? work2[k]
            for m in 0..<(k + 2) where m * np + j < season.count { season[m * np + j] = work2[m] }
        }
        return season
    }

    /// Moving averages of lengths np, np and 3 (the low-pass filter), n + 2 np values in, n out.
    static func movingAverages(_ x: [Double], np: Int) -> [Double] {
        func average(_ v: [Double], _ length: Int) -> [Double] {
            let count = v.count - length + 1
            guard count > 0 else { return [] }
            var out = [Double](repeating: 0, count: count)
            var sum = v[0..<length].reduce(0, +)
            out[0] = sum / Double(length)
            for j in stride(from: 1, to: count, by: 1) {
                sum = sum - v[j - 1] + v[length + j - 1]
                out[j] = sum / Double(length)
            }
            return out
        }
        return average(average(average(x, np), np), 3)
    }

    /// Loess of degree 0 or 1 evaluated every `jump` points, linear interpolation between (R's stless).
    static func smooth(_ y: [Double], window len: Int, degree: Int, jump: Int, weights: [Double]?) -> [Double] {
        let n = y.count
        guard n >= 2 else { return y }
        var ys = [Double](repeating: 0, count: n)
        let newnj = min(jump, n - 1)
        var nleft = 1
        var nright = n
        if len >= n {
            nleft = 1
            nright = n
            for i in stride(from: 1, through: n, by: newnj) {
                ys[i - 1] =
                    estimate(
                        y, window: len, degree: degree, at: Double(i), left: nleft, right: nright, weights: weights)
                    ?? y[i - 1]
            }
        } else if newnj == 1 {
            let nsh = (len + 1) / 2
            nleft = 1
            nright = len
            for i in 1...n {
                if i > nsh && nright != n {
                    nleft += 1
                    nright += 1
                }
                ys[i - 1] =
                    estimate(
                        y, window: len, degree: degree, at: Double(i), left: nleft, right: nright, weights: weights)
                    ?? y[i - 1]
            }
        } else {
            let nsh = (len + 1) / 2
            for i in stride(from: 1, through: n, by: newnj) {
                if i < nsh {
                    nleft = 1
                    nright = len
                } else if i >= n - nsh + 1 {
                    nleft = n - len + 1
                    nright = n
                } else {
                    nleft = i - nsh + 1
                    nright = len + i - nsh
                }
                ys[i - 1] =
                    estimate(
                        y, window: len, degree: degree, at: Double(i), left: nleft, right: nright, weights: weights)
                    ?? y[i - 1]
            }
        }
        if newnj != 1 {
            for i in stride(from: 1, through: n - newnj, by: newnj) {
                let delta = (ys[i + newnj - 1] - ys[i - 1]) / Double(newnj)
                for j in (i + 1)..<(i + newnj) { ys[j - 1] = ys[i - 1] + delta * Double(j - i) }
            }
            let k = ((n - 1) / newnj) * newnj + 1
            if k != n {
                ys[n - 1] =
                    estimate(
                        y, window: len, degree: degree, at: Double(n), left: nleft, right: nright, weights: weights)
                    ?? y[n - 1]
                if k != n - 1 {
                    let delta = (ys[n - 1] - ys[k - 1]) / Double(n - k)
                    for j in (k + 1)..<n { ys[j - 1] = ys[k - 1] + delta * Double(j - k) }
                }
            }
        }
        return ys
    }

    /// The loess fit at `xs` (1-based positions) from points left...right with tricube weights, or nil
    /// when every weight is zero (R's stlest).
    static func estimate(
        _ y: [Double], window len: Int, degree: Int, at xs: Double, left nleft: Int, right nright: Int,
        weights rw: [Double]?
    ) -> Double? {
        let n = y.count
        let range = Double(n) - 1
        var h = max(xs - Double(nleft), Double(nright) - xs)
        if len > n { h += Double((len - n) / 2) }
        let h9 = 0.999 * h
        let h1 = 0.001 * h
        var w = [Double](repeating: 0, count: nright - nleft + 1)
        var a = 0.0
        for j in nleft...nright {
            let r = abs(Double(j) - xs)
            guard r <= h9 else { continue }
            var weight =
                r <= h1
                ? 1
                : {
                    let u = 1 - (r / h) * (r / h) * (r / h); return u * u * u
                }()
            if let rw { weight *= rw[j - 1] }
            w[j - nleft] = weight
            a += weight
        }
        guard a > 0 else { return nil }
        for k in w.indices { w[k] /= a }
        if h > 0 && degree > 0 {
            var mean = 0.0
            for j in nleft...nright { mean += w[j - nleft] * Double(j) }
            var b = xs - mean
            var c = 0.0
            for j in nleft...nright { c += w[j - nleft] * (Double(j) - mean) * (Double(j) - mean) }
            if c.squareRoot() > 0.001 * range {
                b /= c
                for j in nleft...nright { w[j - nleft] *= b * (Double(j) - mean) + 1 }
            }
        }
        var ys = 0.0
        for j in nleft...nright { ys += w[j - nleft] * y[j - 1] }
        return ys
    }
}

enum Seasonality {
    /// Seasonal differences auto.arima takes (forecast's nsdiffs, test "seas"): 1 when the seasonal strength
    /// of the STL decomposition exceeds 0.64, at most `maxD`.
    static func differences(_ x: [Double], period m: Int, maxD: Int) -> Int {
        var x = x
        var D = 0
        guard !x.allSatisfy({ $0 == x[0] }), m < x.count else { return 0 }
        var differencing = x.count > 2 * m && STL.seasonalStrength(x, period: m) > 0.64
        while differencing && D < maxD {
            D += 1
            x = Series.difference(x, lag: m)
            if x.allSatisfy({ $0 == x.first }) { return D }
            differencing = x.count >= 2 * m && D < maxD && STL.seasonalStrength(x, period: m) > 0.64
        }
        return D
    }
}
