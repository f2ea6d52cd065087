/// The ARIMA model in Harvey's state-space form (as R's makeARIMA): an ARMA block of dimension
/// r = max(p', q' + 1) with the AR coefficients in the first column of its transition matrix, then d'
/// states of the differencing polynomial. The ARMA block starts from its stationary covariance, the
/// differencing states from a diffuse prior of variance `kappa`.
struct StateSpace: Sendable {
    static let kappa = 1e6

    var phi: [Double]
    var theta: [Double]
    var delta: [Double]
    /// State (length rd) and its covariance (rd x rd, column-major), as left by the last filter run.
    var a: [Double]
    var P: [Double]
    /// The predicted covariance, and before the first observation the initial one.
    var Pn: [Double]
    let r: Int
    var rd: Int { r + delta.count }

    init(phi: [Double], theta: [Double], delta: [Double]) throws(ForecastError) {
        self.phi = phi
        self.theta = theta
        self.delta = delta
        r = max(phi.count, theta.count + 1)
        let rd = r + delta.count
        a = [Double](repeating: 0, count: rd)
        P = [Double](repeating: 0, count: rd * rd)
        Pn = [Double](repeating: 0, count: rd * rd)
        let q0 = try Self.stationaryCovariance(phi: phi, theta: theta, r: r)
        for j in 0..<r { for i in 0..<r { Pn[i + rd * j] = q0[i + r * j] } }
        for i in 0..<delta.count { Pn[(r + i) + rd * (r + i)] = Self.kappa }
    }

    /// The stationary covariance Q0 of the ARMA block: the solution of Q = T Q T' + R R' with R = (1, theta).
    /// Solved by doubling (Q <- Q + A Q A', A <- A A), which converges quadratically for a stationary T.
    static func stationaryCovariance(phi: [Double], theta: [Double], r: Int) throws(ForecastError) -> [Double] {
        if r == 1 { return [phi.isEmpty ? 1 : 1 / (1 - phi[0] * phi[0])] }
        var rv = [Double](repeating: 0, count: r)
        rv[0] = 1
        for i in 0..<min(theta.count, r - 1) { rv[i + 1] = theta[i] }
        var q = [Double](repeating: 0, count: r * r)
        for j in 0..<r { for i in 0..<r { q[i + r * j] = rv[i] * rv[j] } }
        var t = [Double](repeating: 0, count: r * r)
        for i in 0..<phi.count { t[i] = phi[i] }  // first column
        for i in 0..<(r - 1) { t[i + r * (i + 1)] = 1 }  // superdiagonal
        for _ in 0..<64 {
            let tq = Matrix.multiply(t, q, r)
            let increment = Matrix.multiplyTransposed(tq, t, r)  // T Q T'
            var change = 0.0
            var size = 0.0
            for k in 0..<(r * r) {
                q[k] += increment[k]
                change = max(change, abs(increment[k]))
                size = max(size, abs(q[k]))
            }
            guard size.isFinite else { throw ForecastError.nonStationary("the AR part is not stationary") }
            if change <= 1e-15 * size { return q }
            t = Matrix.multiply(t, t, r)
        }
        throw ForecastError.nonStationary("the AR part is too close to non-stationary for a stationary start")
    }
}

/// Small dense square matrices, column-major.
enum Matrix {
    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for k in 0..<n {
                let bkj = b[k + n * j]
                if bkj == 0 { continue }
                for i in 0..<n { c[i + n * j] += a[i + n * k] * bkj }
            }
        }
        return c
    }

    /// a * b'
    static func multiplyTransposed(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for k in 0..<n {
                let bjk = b[j + n * k]
                if bjk == 0 { continue }
                for i in 0..<n { c[i + n * j] += a[i + n * k] * bjk }
            }
        }
        return c
    }
}
