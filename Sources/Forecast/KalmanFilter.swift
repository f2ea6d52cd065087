import RealModule

/// The exact Gaussian likelihood of an ARIMA model by a Kalman filter over its state-space form, as
/// R's ARIMA_Like computes it: predicted covariances built from the companion structure (no dense
/// products), observations whose prediction variance is 1e4 or more (the diffuse differencing states'
/// first observations) left out of the likelihood, missing values as prediction steps only.
extension StateSpace {
    struct Likelihood {
        /// Sum of squared standardised innovations, sum of log prediction variances, and how many
        /// observations entered them.
        var ssq = 0.0
        var sumlog = 0.0
        var used = 0
        /// Innovations divided by the square root of their prediction variance (NaN where y is missing).
        var residuals: [Double] = []
    }

    /// Runs the filter over `y` from the initial state, leaving the final filtered state in `a`, `P`;
    /// `continuing` runs it on from the filtered state a previous run left (new observations).
    /// `steadyState` lets the covariance recursion stop at its fixed point (see `run`): for the optimiser's
    /// many evaluations; the reported likelihood, the Hessian and forecasts use the full recursion.
    mutating func filter(
        _ y: [Double], residuals wantResiduals: Bool = false, continuing: Bool = false, steadyState: Bool = false
    ) -> Likelihood {
        var result = Likelihood()
        if wantResiduals { result.residuals = [Double](repeating: .nan, count: y.count) }
        let dims = Dimensions(p: phi.count, q: theta.count, d: delta.count, r: r)
        // The likelihood is evaluated hundreds of times per fit: the loops run over raw buffers.
        phi.withUnsafeBufferPointer { phi in
            theta.withUnsafeBufferPointer { theta in
                delta.withUnsafeBufferPointer { delta in
                    a.withUnsafeMutableBufferPointer { a in
                        P.withUnsafeMutableBufferPointer { P in
                            Pn.withUnsafeMutableBufferPointer { Pn in
                                y.withUnsafeBufferPointer { y in
                                    let model = Buffers(phi: phi, theta: theta, delta: delta, a: a, P: P, Pn: Pn)
                                    Self.run(model, dims, y, &result, wantResiduals, continuing, steadyState)
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    struct Dimensions {
        let p, q, d, r: Int
        var rd: Int { r + d }
    }

    struct Buffers {
        let phi, theta, delta: UnsafeBufferPointer<Double>
        let a, P, Pn: UnsafeMutableBufferPointer<Double>
    }

    private static func run(
        _ m: Buffers, _ n: Dimensions, _ y: UnsafeBufferPointer<Double>, _ result: inout Likelihood,
        _ wantResiduals: Bool, _ continuing: Bool, _ steadyState: Bool
    ) {
        let (p, d, r, rd) = (n.p, n.d, n.r, n.rd)
        let (phi, delta, a, P, Pn) = (m.phi, m.delta, m.a, m.P, m.Pn)
        var anew = [Double](repeating: 0, count: rd)
        var M = [Double](repeating: 0, count: rd)
        var mm = [Double](repeating: 0, count: d > 0 ? rd * rd : 0)
        // Once the gain and the predicted covariance's column M stop changing (by 1e-12 of the gain, three
        // steps running), the covariance recursion has reached its fixed point: until a missing value, the
        // prediction, gain and covariance are reused. This moves the likelihood by ~1e-13 relative, far
        // below the optimiser's tolerance (1.5e-8), and makes long series cheap.
        var previousM = [Double](repeating: .infinity, count: rd)
        var previousGain = Double.infinity
        var settled = 0
        var steady = false
        var gain = 0.0
        var logGain = 0.0
        // Without differencing states the prediction is a shift of P plus low-rank terms in phi and
        // (1, theta), which are mostly zeros in a seasonal model: their non-zero entries, once.
        let sparse = d == 0 ? Sparse(phi: phi, theta: m.theta, r: r) : nil
        anew.withUnsafeMutableBufferPointer { anew in
            M.withUnsafeMutableBufferPointer { M in
                mm.withUnsafeMutableBufferPointer { mm in
                    for l in 0..<y.count {
                        for i in 0..<r {
                            var tmp = i < r - 1 ? a[i + 1] : 0
                            if i < p { tmp += phi[i] * a[0] }
                            anew[i] = tmp
                        }
                        if d > 0 {
                            for i in stride(from: r + 1, to: rd, by: 1) { anew[i] = a[i - 1] }
                            var tmp = a[0]
                            for i in 0..<d { tmp += delta[i] * a[r + i] }
                            anew[r] = tmp
                        }
                        let observation = y[l]
                        if steady && observation.isNaN { steady = false }
                        if (l > 0 || continuing) && !steady {
                            if let sparse { predictCovariance(P, Pn, r, sparse) } else { predictCovariance(m, n, mm) }
                        }
                        if !observation.isNaN {
                            var resid = observation - anew[0]
                            for i in 0..<d { resid -= delta[i] * anew[r + i] }
                            if !steady {
                                for i in 0..<rd {
                                    var tmp = Pn[i]
                                    for j in 0..<d { tmp += Pn[i + rd * (r + j)] * delta[j] }
                                    M[i] = tmp
                                }
                                gain = M[0]
                                for j in 0..<d { gain += delta[j] * M[r + j] }
                                logGain = Double.log(gain)
                                var change = abs(gain - previousGain)
                                for i in 0..<rd {
                                    change = max(change, abs(M[i] - previousM[i]))
                                    previousM[i] = M[i]
                                }
                                previousGain = gain
                                // not while diffuse states are still being resolved (gain >= 1e4)
                                settled = gain < 1e4 && change <= 1e-12 * gain ? settled + 1 : 0
                            }
                            if gain < 1e4 {
                                result.used += 1
                                result.ssq += resid * resid / gain
                                result.sumlog += logGain
                            }
                            if wantResiduals { result.residuals[l] = resid / gain.squareRoot() }
                            for i in 0..<rd { a[i] = anew[i] + M[i] * resid / gain }
                            if !steady {
                                for j in 0..<rd {
                                    let factor = M[j] / gain
                                    for i in 0..<rd { P[i + rd * j] = Pn[i + rd * j] - M[i] * factor }
                                }
                                steady = steadyState && settled >= 3
                            }
                        } else {
                            for i in 0..<rd { a[i] = anew[i] }
                            for k in 0..<(rd * rd) { P[k] = Pn[k] }
                            settled = 0
                        }
                    }
                }
            }
        }
    }

    /// The non-zero entries of phi and of R = (1, theta, 0...) (length r).
    struct Sparse {
        var phi: [(index: Int, value: Double)] = []
        var v: [(index: Int, value: Double)] = []

        init(phi: UnsafeBufferPointer<Double>, theta: UnsafeBufferPointer<Double>, r: Int) {
            for (i, value) in phi.enumerated() where value != 0 { self.phi.append((i, value)) }
            v.append((0, 1))
            for (i, value) in theta.enumerated() where value != 0 && i + 1 < r { v.append((i + 1, value)) }
        }
    }

    /// Pn = T P T' + R R' for the ARMA block alone (no differencing states), T = [phi | shift]:
    /// Pn(i, j) = P(i+1, j+1) + phi_i u_j + u_i phi_j + P(0, 0) phi_i phi_j + v_i v_j with u_j = P(0, j+1)
    /// and v = R. The shift is a copy; the other terms touch only the rows and columns where phi and v
    /// are non-zero (4 of 14 for a monthly (0,1,1)(0,1,1)), instead of branching on every entry.
    private static func predictCovariance(
        _ P: UnsafeMutableBufferPointer<Double>, _ Pn: UnsafeMutableBufferPointer<Double>, _ r: Int, _ sparse: Sparse
    ) {
        let (P, Pn) = (P.baseAddress!, Pn.baseAddress!)
        for j in 0..<(r - 1) {
            let source = P + (j + 1) * r + 1
            let target = Pn + j * r
            for i in 0..<(r - 1) { target[i] = source[i] }
            target[r - 1] = 0
        }
        for i in 0..<r { Pn[i + r * (r - 1)] = 0 }
        let p00 = P[0]
        for (a, phiA) in sparse.phi {
            // row a and column a: phi_a u_j and u_i phi_a (u_j = P(j+1, 0), 0 for the last)
            for j in 0..<(r - 1) {
                let term = phiA * P[j + 1]
                Pn[a + r * j] += term
                Pn[j + r * a] += term
            }
            for (b, phiB) in sparse.phi { Pn[a + r * b] += p00 * phiA * phiB }
        }
        for (a, va) in sparse.v { for (b, vb) in sparse.v { Pn[a + r * b] += va * vb } }
    }

    /// Pn = T P T' + R R' from the filtered P, using the companion form of T.
    private static func predictCovariance(_ m: Buffers, _ n: Dimensions, _ mm: UnsafeMutableBufferPointer<Double>) {
        let (p, q, d, r, rd) = (n.p, n.q, n.d, n.r, n.rd)
        let (phi, theta, delta, P, Pn) = (m.phi, m.theta, m.delta, m.P, m.Pn)
        if d == 0 {
            for i in 0..<r {
                let vi = i == 0 ? 1.0 : (i - 1 < q ? theta[i - 1] : 0)
                for j in 0..<r {
                    var tmp = (j == 0 ? 1.0 : (j - 1 < q ? theta[j - 1] : 0)) * vi
                    if i < p && j < p { tmp += phi[i] * phi[j] * P[0] }
                    if i < r - 1 && j < r - 1 { tmp += P[i + 1 + r * (j + 1)] }
                    if i < p && j < r - 1 { tmp += phi[i] * P[j + 1] }
                    if j < p && i < r - 1 { tmp += phi[j] * P[i + 1] }
                    Pn[i + r * j] = tmp
                }
            }
            return
        }
        // mm = T P
        for i in 0..<r {
            for j in 0..<rd {
                var tmp = 0.0
                if i < p { tmp += phi[i] * P[rd * j] }
                if i < r - 1 { tmp += P[i + 1 + rd * j] }
                mm[i + rd * j] = tmp
            }
        }
        for j in 0..<rd {
            var tmp = P[rd * j]
            for k in 0..<d { tmp += delta[k] * P[r + k + rd * j] }
            mm[r + rd * j] = tmp
        }
        for i in stride(from: 1, to: d, by: 1) {
            for j in 0..<rd { mm[r + i + rd * j] = P[r + i - 1 + rd * j] }
        }
        // Pn = mm T'
        for i in 0..<r {
            for j in 0..<rd {
                var tmp = 0.0
                if i < p { tmp += phi[i] * mm[j] }
                if i < r - 1 { tmp += mm[rd * (i + 1) + j] }
                Pn[j + rd * i] = tmp
            }
        }
        for j in 0..<rd {
            var tmp = mm[j]
            for k in 0..<d { tmp += delta[k] * mm[rd * (r + k) + j] }
            Pn[j + rd * r] = tmp
        }
        for i in stride(from: 1, to: d, by: 1) {
            for j in 0..<rd { Pn[j + rd * (r + i)] = mm[rd * (r + i - 1) + j] }
        }
        for i in 0...q {
            let vi = i == 0 ? 1.0 : theta[i - 1]
            for j in 0...q { Pn[i + rd * j] += vi * (j == 0 ? 1.0 : theta[j - 1]) }
        }
    }
}
