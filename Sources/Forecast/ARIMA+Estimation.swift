import RealModule

extension ARIMA {
    /// One series and model: the regression column, differencing and the two objectives R's arima
    /// minimises (CSS, then the exact likelihood).
    struct Problem {
        let y: [Double]
        let order: ARIMAOrder
        let constant: ARIMAConstant
        let delta: [Double]
        /// The regressor (all ones for a mean, 1...n for a drift), nil for none.
        let regressor: [Double]?
        let used: Int
        /// No missing values: the search may filter the differenced series (see `mlObjective`).
        let complete: Bool

        var armaCount: Int { order.armaCount }
        var parameterCount: Int { armaCount + (regressor == nil ? 0 : 1) }

        init(y: [Double], order: ARIMAOrder, constant: ARIMAConstant) throws(ForecastError) {
            guard order.p >= 0, order.d >= 0, order.q >= 0, order.P >= 0, order.D >= 0, order.Q >= 0, order.period >= 1
            else { throw ForecastError.invalidInput("orders must not be negative and the period at least 1") }
            guard y.allSatisfy({ $0.isNaN || $0.isFinite }) else {
                throw ForecastError.invalidInput("the series has an infinite value")
            }
            self.y = y
            self.order = order
            delta = order.delta
            let differenced = order.d + order.D > 0
            switch constant {
            case .mean where differenced, .drift where order.d + order.D != 1:
                // as R: a mean is dropped once the series is differenced; a drift needs d + D == 1
                self.constant = .none
                regressor = nil
            case .none:
                self.constant = .none
                regressor = nil
            case .mean:
                self.constant = .mean
                regressor = [Double](repeating: 1, count: y.count)
            case .drift:
                self.constant = .drift
                regressor = (1...max(y.count, 1)).map(Double.init)
            }
            used = y.filter { !$0.isNaN }.count - delta.count
            complete = !y.contains { $0.isNaN }
            let needed = order.differencingLoss + order.expandedP + parameterCount + 1
            guard used > 0, y.count > needed else {
                throw ForecastError.tooShort("\(y.count) observations are too few for \(order)")
            }
        }

        /// y minus the regression part.
        func adjusted(_ coefficients: [Double]) -> [Double] {
            guard let regressor, let beta = coefficients.last else { return y }
            return zip(y, regressor).map { $0 - beta * $1 }
        }

        /// Applies the order's differencing in place: w[l] becomes (1-B)^d (1-B^m)^D w at l, the first
        /// d' entries left partly differenced (the CSS recursion conditions on them).
        func difference(_ w: inout [Double]) {
            let n = w.count
            for _ in 0..<order.d { for l in stride(from: n - 1, to: 0, by: -1) { w[l] -= w[l - 1] } }
            if order.period > 1 {
                let m = order.period
                for _ in 0..<order.D { for l in stride(from: n - 1, through: m, by: -1) { w[l] -= w[l - m] } }
            }
        }

        /// The differenced series, without the d' observations differencing uses up.
        func differenced(_ w: [Double]) -> [Double] {
            var w = w
            difference(&w)
            return Array(w.dropFirst(order.differencingLoss))
        }

        /// R's ncond: observations the CSS recursion conditions on.
        var conditioning: Int { order.differencingLoss + order.expandedP }

        /// 0.5 log(mean squared CSS residual), or +infinity where undefined.
        func cssObjective(_ coefficients: [Double]) -> Double {
            let (phi, theta) = ARIMAParameters.expand(coefficients, order, transform: false)
            var w = adjusted(coefficients)
            let n = w.count
            difference(&w)
            let ncond = conditioning
            var resid = [Double](repeating: 0, count: n)
            var ssq = 0.0
            var count = 0
            for l in stride(from: ncond, to: n, by: 1) {
                var tmp = w[l]
                for j in 0..<phi.count { tmp -= phi[j] * w[l - j - 1] }
                for j in 0..<min(l - ncond, theta.count) { tmp -= theta[j] * resid[l - j - 1] }
                resid[l] = tmp
                if !tmp.isNaN {
                    count += 1
                    ssq += tmp * tmp
                }
            }
            let value = 0.5 * Double.log(ssq / Double(count))
            return value.isFinite ? value : .infinity
        }

        /// The state-space model for the coefficients (AR blocks in PACF space when `transformed`).
        func model(_ coefficients: [Double], transformed: Bool) throws(ForecastError) -> StateSpace {
            let (phi, theta) = ARIMAParameters.expand(coefficients, order, transform: transformed)
            return try StateSpace(phi: phi, theta: theta, delta: delta)
        }

        /// 0.5 (log(ssq / nu) + sumlog / nu) from the Kalman filter; `fast` lets the filter's covariance
        /// stop at its fixed point (the optimiser's search), otherwise the full recursion as R runs it.
        ///
        /// The fast objective of a differenced series without missing values filters the differenced
        /// series through the ARMA block alone: the likelihood of the d' differencing states' diffuse
        /// prior is that of the differenced series (Ansley and Kohn), which R's prior of variance 1e6
        /// approximates to ~1e-7 relative. The state shrinks from r + d' to r (27 to 14 for a monthly
        /// (0,1,1)(0,1,1)), and with it the covariance recursion, the cost of a seasonal search.
        func mlObjective(_ coefficients: [Double], transformed: Bool, fast: Bool = false) throws(ForecastError)
            -> Double
        {
            let l: StateSpace.Likelihood
            if fast && complete && !delta.isEmpty {
                let (phi, theta) = ARIMAParameters.expand(coefficients, order, transform: transformed)
                var state = try StateSpace(phi: phi, theta: theta, delta: [])
                l = state.filter(differenced(adjusted(coefficients)), steadyState: true)
            } else {
                var state = try model(coefficients, transformed: transformed)
                l = state.filter(adjusted(coefficients), steadyState: fast)
            }
            let nu = Double(l.used)
            return 0.5 * (Double.log(l.ssq / nu) + l.sumlog / nu)
        }

        func logLikelihood(objective value: Double) -> Double {
            let n = Double(used)
            return -0.5 * (2 * n * value + n + n * Double.log(2 * Double.pi))
        }

        /// Start values and parscale of the regression coefficient: OLS of the differenced series on the
        /// differenced regressor, parscale 10 standard errors.
        func regressionStart() -> (value: Double, parscale: Double)? {
            guard let regressor else { return nil }
            let pairs = zip(differenced(y), differenced(regressor)).filter { !$0.0.isNaN && !$0.1.isNaN }
            let sxx = pairs.reduce(0) { $0 + $1.1 * $1.1 }
            guard sxx > 0, pairs.count > 1 else { return (0, 1) }
            let beta = pairs.reduce(0) { $0 + $1.0 * $1.1 } / sxx
            let rss = pairs.reduce(0) { $0 + ($1.0 - beta * $1.1) * ($1.0 - beta * $1.1) }
            let se = (rss / Double(pairs.count - 1) / sxx).squareRoot()
            return (beta, se > 0 ? 10 * se : 1)
        }

        /// The CSS-ML fit. Standard errors (a numerical Hessian, the costliest part of a small fit) are
        /// worked out only when the fit's AICc is below `standardErrorsBelow`; otherwise they are empty.
        func fit(standardErrorsBelow limit: Double = .infinity) throws(ForecastError) -> ARIMAFit {
            let regression = regressionStart()
            var start = [Double](repeating: 0, count: armaCount)
            var parscale = [Double](repeating: 1, count: armaCount)
            if let regression {
                start.append(regression.value)
                parscale.append(regression.parscale)
            }
            let optimiser = BFGS(parscale: parscale)
            // 1. CSS start values (kept only if the search converged, as R does).
            var initial = start
            if parameterCount > 0 {
                let css = try optimiser.minimize(start) { cssObjective($0) }
                if css.converged { initial = css.x }
            }
            let ar = Array(initial[0..<order.p])
            let sar = Array(initial[(order.p + order.q)..<(order.p + order.q + order.P)])
            guard Polynomial.isStationary(ar) else {
                throw ForecastError.nonStationary("non-stationary AR part from CSS")
            }
            guard Polynomial.isStationary(sar) else {
                throw ForecastError.nonStationary("non-stationary seasonal AR part from CSS")
            }
            // 2. Exact ML over PACF-transformed AR blocks, from invertible MA blocks.
            var transformed = invertMABlocks(ARIMAParameters.mapARBlocks(initial, order, ARIMAParameters.toPACF))
            func objective(fast: Bool) -> ([Double]) -> Double {
                { c in
                    (try? self.mlObjective(c, transformed: true, fast: fast)).flatMap { $0.isFinite ? $0 : nil }
                        ?? .greatestFiniteMagnitude
                }
            }
            // The search and the Hessian run on the fast filter; the optimum's reported value on the full one.
            if parameterCount > 0 {
                transformed = invertMABlocks(try optimiser.minimize(transformed, objective(fast: true)).x)
            }
            let value = objective(fast: false)(transformed)
            let coefficients = ARIMAParameters.mapARBlocks(transformed, order, ARIMAParameters.fromPACF)
            let fit = try makeFit(coefficients, objective: value, standardErrors: [])
            guard parameterCount > 0, fit.aicc < limit else { return fit }
            return fit.with(standardErrors: standardErrors(at: transformed, optimiser, objective(fast: true)))
        }

        /// The fit at given coefficients: the final filter run (residuals, the state forecasts start
        /// from), likelihood, information criteria and sigma2.
        func makeFit(_ coefficients: [Double], objective value: Double, standardErrors: [Double]) throws(ForecastError)
            -> ARIMAFit
        {
            var state = try model(coefficients, transformed: false)
            let final = state.filter(adjusted(coefficients), residuals: true)
            let loglik = logLikelihood(objective: value)
            let npar = Double(parameterCount + 1)
            let nstar = Double(y.count - order.differencingLoss)
            let aic = -2 * loglik + 2 * npar
            let sumsq = final.residuals.reduce(0) { $1.isNaN ? $0 : $0 + $1 * $1 }
            return ARIMAFit(
                order: order, constant: constant, coefficients: coefficients, logLikelihood: loglik, aic: aic,
                aicc: aic + 2 * npar * (npar + 1) / (nstar - npar - 1), bic: aic + npar * (Double.log(nstar) - 2),
                sigma2: sumsq / (nstar - npar + 1), mlSigma2: final.ssq / Double(used), standardErrors: standardErrors,
                residuals: final.residuals, observations: y.count, state: state)
        }

        /// sqrt(diag(A' (H n)^-1 A)), H the Hessian of the ML objective in the transformed parameters and A
        /// the Jacobian of the transform (R's var.coef); NaN throughout where H cannot be inverted.
        func standardErrors(at transformed: [Double], _ optimiser: BFGS, _ objective: ([Double]) -> Double)
            -> [Double]
        {
            let n = transformed.count
            guard let h = try? optimiser.hessian(at: transformed, objective),
                let inverse = try? Matrix.inverse(h.map { $0 * Double(used) }, n: n)
            else { return [Double](repeating: .nan, count: n) }
            let a = transformJacobian(transformed)
            return (0..<n).map { i in
                var v = 0.0
                for k in 0..<n {
                    let aki = a[k + n * i]
                    if aki == 0 { continue }
                    for l in 0..<n { v += aki * inverse[k + n * l] * a[l + n * i] }
                }
                return v >= 0 ? v.squareRoot() : .nan
            }
        }

        /// d coefficient_j / d raw_i (column-major, A[i + n j]) by forward differences of step 1e-3 on the AR
        /// blocks (R's ARIMA_Gradtrans); the identity elsewhere.
        func transformJacobian(_ raw: [Double]) -> [Double] {
            let n = raw.count
            var a = [Double](repeating: 0, count: n * n)
            for i in 0..<n { a[i + n * i] = 1 }
            for (start, count) in [(0, order.p), (order.p + order.q, order.P)] where count > 0 {
                var w1 = Array(raw[start..<start + count])
                let w2 = ARIMAParameters.fromPACF(w1)
                for i in 0..<count {
                    w1[i] += 1e-3
                    let w3 = ARIMAParameters.fromPACF(w1)
                    for j in 0..<count { a[(start + i) + n * (start + j)] = (w3[j] - w2[j]) / 1e-3 }
                    w1[i] -= 1e-3
                }
            }
            return a
        }

        /// R's arima(method = "CSS"): the CSS estimates from the OLS start, the CSS residual variance and
        /// standard errors from the CSS objective's Hessian (NaN where it cannot be inverted).
        func fitCSS() throws(ForecastError) -> (coefficients: [Double], sigma2: Double, standardErrors: [Double]) {
            var start = [Double](repeating: 0, count: armaCount)
            var parscale = [Double](repeating: 1, count: armaCount)
            if let regression = regressionStart() {
                start.append(regression.value)
                parscale.append(regression.parscale)
            }
            let optimiser = BFGS(parscale: parscale)
            let objective = { (c: [Double]) -> Double in
                let value = self.cssObjective(c)
                return value.isFinite ? value : .greatestFiniteMagnitude
            }
            let coefficients = parameterCount > 0 ? try optimiser.minimize(start, objective).x : start
            let sigma2 = Double.exp(2 * cssObjective(coefficients))
            let n = coefficients.count
            var standardErrors = [Double](repeating: .nan, count: n)
            if n > 0, let h = try? optimiser.hessian(at: coefficients, objective),
                let inverse = try? Matrix.inverse(h.map { $0 * Double(used) }, n: n)
            {
                standardErrors = (0..<n).map { inverse[$0 + n * $0] >= 0 ? inverse[$0 + n * $0].squareRoot() : .nan }
            }
            return (coefficients, sigma2, standardErrors)
        }

        func invertMABlocks(_ coefficients: [Double]) -> [Double] {
            var result = coefficients
            if order.q > 0 {
                let range = order.p..<(order.p + order.q)
                result.replaceSubrange(range, with: Polynomial.invertMA(Array(result[range])))
            }
            if order.Q > 0 {
                let start = order.p + order.q + order.P
                let range = start..<(start + order.Q)
                result.replaceSubrange(range, with: Polynomial.invertMA(Array(result[range])))
            }
            return result
        }
    }
}
