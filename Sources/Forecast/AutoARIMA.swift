import RealModule

/// Automatic ARIMA order selection in the Hyndman-Khandakar manner, as R's forecast::auto.arima does it
/// by default: KPSS for d, the seasonal-strength heuristic for D, then a first-improvement stepwise
/// search on AICc over (p,q)(P,Q) and the constant, with the CSS approximation and an exact re-fit of the
/// candidates in IC order for long or seasonal series.
public struct AutoARIMA: Sendable {
    public var maxP = 5
    public var maxQ = 5
    public var maxSeasonalP = 2
    public var maxSeasonalQ = 2
    public var maxD = 2
    public var maxSeasonalD = 1
    public var maxModels = 94
    /// nil: R's rule, approximate when n > 150 or the period exceeds 12.
    public var approximation: Bool?
    /// Periods above this (a daily cycle in 5-minute data is 288) are modelled by an STL decomposition
    /// plus a non-seasonal ARIMA (`SeasonalDecomposition`) instead of a seasonal ARIMA.
    public var longestSeasonalARIMAPeriod = 52

    public init() {}

    /// A candidate's place in the search: its orders, whether it has a constant, its IC.
    struct Candidate {
        var p, q, P, Q: Int
        var constant: Bool
        var ic: Double
    }

    public func fit(_ series: [Double], period: Int = 1) throws(ForecastError) -> ARIMAFit {
        guard let first = series.firstIndex(where: { !$0.isNaN }), let last = series.lastIndex(where: { !$0.isNaN })
        else { throw ForecastError.invalidInput("the series has no values") }
        let x = Array(series[first...])
        if period > longestSeasonalARIMAPeriod { return try decomposed(x, period: period) }
        let length = x[...(last - first)].filter { !$0.isNaN }.count
        let values = x.filter { !$0.isNaN }
        guard !values.allSatisfy({ $0 == values[0] }) else {
            throw ForecastError.invalidInput("the series is constant (\(values[0])): there is nothing to model")
        }
        let m = max(period, 1)
        var maxP = min(self.maxP, length / 3)
        var maxQ = min(self.maxQ, length / 3)
        var maxSP = min(maxSeasonalP, length / 3 / m)
        var maxSQ = min(maxSeasonalQ, length / 3 / m)
        var D = 0
        if m == 1 {
            maxSP = 0
            maxSQ = 0
        } else if x.count > 2 * m {
            D = Seasonality.differences(values, period: m, maxD: maxSeasonalD)
        }
        var dx = values
        for _ in 0..<D { dx = Series.difference(dx, lag: m) }
        let d = UnitRoot.firstDifferences(dx, maxD: maxD)
        for _ in 0..<d { dx = Series.difference(dx, lag: 1) }
        guard !dx.isEmpty else { throw ForecastError.tooShort("not enough data after differencing") }
        if dx.allSatisfy({ $0 == dx[0] }) {
            // The differenced series is constant: a polynomial trend; fit the plain differencing model.
            return try ARIMA.fit(
                x, order: ARIMAOrder(p: 0, d: d, q: 0, P: 0, D: D, Q: 0, period: m),
                constant: d + D == 1 ? .drift : .none)
        }
        if m > 1 {
            if maxSP > 0 { maxP = min(maxP, m - 1) }
            if maxSQ > 0 { maxQ = min(maxQ, m - 1) }
        }
        var approximate = approximation ?? (length > 150 || m > 12)
        var offset = 0.0
        if approximate {
            let white = ARIMAOrder(p: 0, d: d, q: 0, P: 0, D: D, Q: 0, period: m)
            if let fit = try? ARIMA.fit(x, order: white, constant: .mean), let ml = fit.mlSigma2 {
                offset = -2 * fit.logLikelihood - Double(length) * Double.log(ml)
            } else {
                approximate = false
            }
        }
        let allowConstant = d + D <= 1
        var search = Search(
            x: x, length: length, d: d, D: D, m: m, approximate: approximate, offset: offset, maxModels: maxModels)
        var constant = allowConstant
        let small = x.count < 10
        var (p, q, P, Q) = (
            min(small ? 1 : 2, maxP), min(small ? 1 : 2, maxQ), small ? 0 : min(1, maxSP), small ? 0 : min(1, maxSQ)
        )
        var best = search.evaluate(p, q, P, Q, constant)
        func consider(_ c: Candidate) -> Bool {
            guard c.ic < best.ic else { return false }
            best = c
            (p, q, P, Q, constant) = (c.p, c.q, c.P, c.Q, c.constant)
            return true
        }
        _ = consider(search.evaluate(0, 0, 0, 0, constant))
        if maxP > 0 || maxSP > 0 {
            _ = consider(search.evaluate(maxP > 0 ? 1 : 0, 0, m > 1 && maxSP > 0 ? 1 : 0, 0, constant))
        }
        if maxQ > 0 || maxSQ > 0 {
            _ = consider(search.evaluate(0, maxQ > 0 ? 1 : 0, 0, m > 1 && maxSQ > 0 ? 1 : 0, constant))
        }
        if constant {
            // As R's auto.arima: a better null model without the constant moves the search to the null orders
            // but leaves the constant on for the moves that follow.
            let null = search.evaluate(0, 0, 0, 0, false)
            if null.ic < best.ic {
                best = null
                (p, q, P, Q) = (0, 0, 0, 0)
            }
        }
        var startCount = 0
        scan: while startCount < search.count && search.count < maxModels {
            startCount = search.count
            // Seasonal moves, then non-seasonal, then the constant; the first improvement restarts the scan.
            let moves: [(Int, Int, Int, Int, Bool)] = [
                (0, 0, -1, 0, P > 0), (0, 0, 0, -1, Q > 0), (0, 0, 1, 0, P < maxSP), (0, 0, 0, 1, Q < maxSQ),
                (0, 0, -1, -1, Q > 0 && P > 0), (0, 0, -1, 1, Q < maxSQ && P > 0), (0, 0, 1, -1, Q > 0 && P < maxSP),
                (0, 0, 1, 1, Q < maxSQ && P < maxSP),
                (-1, 0, 0, 0, p > 0), (0, -1, 0, 0, q > 0), (1, 0, 0, 0, p < maxP), (0, 1, 0, 0, q < maxQ),
                (-1, -1, 0, 0, q > 0 && p > 0), (-1, 1, 0, 0, q < maxQ && p > 0), (1, -1, 0, 0, q > 0 && p < maxP),
                (1, 1, 0, 0, q < maxQ && p < maxP),
            ]
            for (dp, dq, dP, dQ, allowed) in moves where allowed {
                let next = (p + dp, q + dq, P + dP, Q + dQ)
                guard search.isNew(next.0, next.1, next.2, next.3, constant) else { continue }
                guard search.count < maxModels else { break scan }
                if consider(search.evaluate(next.0, next.1, next.2, next.3, constant)) { continue scan }
            }
            if allowConstant, search.isNew(p, q, P, Q, !constant) {
                guard search.count < maxModels else { break scan }
                _ = consider(search.evaluate(p, q, P, Q, !constant))
            }
        }
        if approximate {
            // Exact re-fits in the order of the approximate IC; the first that passes the checks wins.
            let ranked = search.tried.enumerated().sorted { ($0.element.ic, $0.offset) < ($1.element.ic, $1.offset) }
            for (_, c) in ranked {
                if let fit = search.exact(c.p, c.q, c.P, c.Q, c.constant) { return fit }
            }
            throw ForecastError.notFinite("no suitable ARIMA model found")
        }
        guard best.ic.isFinite, let fit = search.fits[search.key(best.p, best.q, best.P, best.Q, best.constant)] else {
            throw ForecastError.notFinite("no suitable ARIMA model found")
        }
        return fit
    }
}

extension AutoARIMA {
    /// A long season: STL's seasonal component out, a non-seasonal auto-ARIMA on the rest (`period`
    /// observations from the series' first non-missing one). With fewer than two cycles there is no
    /// season to estimate and the series is modelled without one.
    func decomposed(_ x: [Double], period: Int) throws(ForecastError) -> ARIMAFit {
        guard x.count >= 2 * period else { return try fit(x, period: 1) }
        let (adjusted, decomposition) = try SeasonalDecomposition.adjust(x, period: period)
        var fit = try self.fit(adjusted, period: 1)
        fit.decomposition = decomposition
        return fit
    }

    /// The candidates fitted so far and how they are fitted and scored (forecast's myarima).
    struct Search {
        let x: [Double]
        let length: Int
        let d, D, m: Int
        let approximate: Bool
        let offset: Double
        let maxModels: Int
        var tried: [Candidate] = []
        var fits: [String: ARIMAFit] = [:]

        var count: Int { tried.count }

        func key(_ p: Int, _ q: Int, _ P: Int, _ Q: Int, _ constant: Bool) -> String {
            "\(p),\(q),\(P),\(Q),\(constant)"
        }

        func isNew(_ p: Int, _ q: Int, _ P: Int, _ Q: Int, _ constant: Bool) -> Bool {
            !tried.contains { $0.p == p && $0.q == q && $0.P == P && $0.Q == Q && $0.constant == constant }
        }

        func order(_ p: Int, _ q: Int, _ P: Int, _ Q: Int) -> ARIMAOrder {
            ARIMAOrder(p: p, d: d, q: q, P: P, D: D, Q: Q, period: m)
        }

        func constantKind(_ constant: Bool) -> ARIMAConstant {
            guard constant else { return .none }
            return d + D == 1 ? .drift : (d + D == 0 ? .mean : .none)
        }

        mutating func evaluate(_ p: Int, _ q: Int, _ P: Int, _ Q: Int, _ constant: Bool) -> Candidate {
            var candidate = Candidate(p: p, q: q, P: P, Q: Q, constant: constant, ic: .infinity)
            if approximate {
                candidate.ic = approximateIC(order(p, q, P, Q), constantKind(constant))
            } else if let fit = exact(p, q, P, Q, constant, standardErrorsBelow: tried.map(\.ic).min() ?? .infinity) {
                candidate.ic = fit.aicc
                fits[key(p, q, P, Q, constant)] = fit
            }
            tried.append(candidate)
            return candidate
        }

        /// A CSS-ML fit that passes the checks (roots of the expanded AR and MA polynomials at least 1.01 in
        /// modulus, finite standard errors), or nil. In the search, a candidate whose AICc is not below the
        /// best so far (`standardErrorsBelow`) cannot be chosen, so its standard errors are not worked out.
        func exact(_ p: Int, _ q: Int, _ P: Int, _ Q: Int, _ constant: Bool, standardErrorsBelow: Double = .infinity)
            -> ARIMAFit?
        {
            guard
                let fit = try? ARIMA.fit(
                    x, order: order(p, q, P, Q), constant: constantKind(constant),
                    standardErrorsBelow: standardErrorsBelow),
                fit.aicc.isFinite, !fit.standardErrors.contains(where: \.isNaN),
                Self.rootsClear(fit.coefficients, fit.order)
            else { return nil }
            return fit
        }

        /// offset + n* log(sigma2_CSS) + 2 npar, and its AICc, for the approximate search.
        func approximateIC(_ order: ARIMAOrder, _ constant: ARIMAConstant) -> Double {
            guard let problem = try? ARIMA.Problem(y: x, order: order, constant: constant),
                let css = try? problem.fitCSS(), css.sigma2 > 0,
                !css.standardErrors.contains(where: \.isNaN), Self.rootsClear(css.coefficients, order)
            else { return .infinity }
            let npar = Double(problem.parameterCount + 1)
            let nstar = Double(length - order.differencingLoss)
            let aic = offset + nstar * Double.log(css.sigma2) + 2 * npar
            let aicc = aic + 2 * npar * (npar + 1) / (nstar - npar - 1)
            return aicc.isFinite ? aicc : .infinity
        }

        static func rootsClear(_ coefficients: [Double], _ order: ARIMAOrder) -> Bool {
            let (phi, theta) = ARIMAParameters.expand(coefficients, order, transform: false)
            for (poly, sign) in [(phi, -1.0), (theta, 1.0)] {
                guard let last = poly.lastIndex(where: { abs($0) > 1e-8 }) else { continue }
                let roots = Polynomial.roots([1] + poly[...last].map { sign * $0 })
                if roots.contains(where: { $0.magnitude < 1.01 }) { return false }
            }
            return true
        }
    }
}
