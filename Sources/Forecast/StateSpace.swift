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
            let increment = Matrix.multiply(tq, t, r, transposingB: true)  // T Q T'
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
    /// a * b, or a * b' with `transposingB`.
    static func multiply(_ a: [Double], _ b: [Double], _ n: Int, transposingB: Bool = false) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for k in 0..<n {
                let bkj = transposingB ? b[j + n * k] : b[k + n * j]
                if bkj == 0 { continue }
                for i in 0..<n { c[i + n * j] += a[i + n * k] * bkj }
            }
        }
        return c
    }
}

extension Matrix {
    /// A's inverse (column-major). Throws where A is singular to working precision (reciprocal 1-norm
    /// condition below machine epsilon), as R's solve() refuses it.
    static func inverse(_ a: [Double], n: Int) throws(ForecastError) -> [Double] {
        var identity = [Double](repeating: 0, count: n * n)
        for i in 0..<n { identity[i + n * i] = 1 }
        let x = try solve(a, identity, n: n)
        let norm = (0..<n).map { j in (0..<n).reduce(0) { $0 + abs(a[$1 + n * j]) } }.max() ?? 0
        let inverseNorm = (0..<n).map { j in (0..<n).reduce(0) { $0 + abs(x[$1 + n * j]) } }.max() ?? 0
        guard 1 / (norm * inverseNorm) >= Double.ulpOfOne else {
            throw ForecastError.notFinite("the Hessian is computationally singular")
        }
        return x
    }

    /// Solves A X = B (A n x n, B n x k, both column-major) by LU with partial pivoting.
    static func solve(_ a: [Double], _ b: [Double], n: Int) throws(ForecastError) -> [Double] {
        var lu = a
        var x = b
        let k = b.count / n
        for col in 0..<n {
            var pivot = col
            for row in col..<n where abs(lu[row + n * col]) > abs(lu[pivot + n * col]) { pivot = row }
            guard lu[pivot + n * col] != 0 else { throw ForecastError.notFinite("the Hessian is singular") }
            if pivot != col {
                for j in 0..<n { lu.swapAt(col + n * j, pivot + n * j) }
                for j in 0..<k { x.swapAt(col + n * j, pivot + n * j) }
            }
            let diagonal = lu[col + n * col]
            for row in (col + 1)..<max(col + 1, n) {
                let factor = lu[row + n * col] / diagonal
                if factor == 0 { continue }
                for j in col..<n { lu[row + n * j] -= factor * lu[col + n * j] }
                for j in 0..<k { x[row + n * j] -= factor * x[col + n * j] }
            }
        }
        for j in 0..<k {
            for row in stride(from: n - 1, through: 0, by: -1) {
                var sum = x[row + n * j]
                for c in (row + 1)..<max(row + 1, n) { sum -= lu[row + n * c] * x[c + n * j] }
                x[row + n * j] = sum / lu[row + n * row]
            }
        }
        return x
    }
}
