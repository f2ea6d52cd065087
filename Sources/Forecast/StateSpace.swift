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
    /// From the process's autocovariances rather than by iterating the equation: with y_t the first
    /// state, gamma(0...p) solve the (p + 1)-equation Yule-Walker system with the MA terms on the right
    /// (psi the MA(infinity) weights), gamma(k > p) follow by the AR recursion, the first row of Q is
    /// c(i) = E[y_t a_t(i)] = sum_j phi(i+1+j) gamma(j+1) + theta(i+j) psi(j), and every other entry
    /// follows from Q(i, l) = phi(i+1) phi(l+1) gamma(0) + phi(i+1) c(l+1) + phi(l+1) c(i+1)
    /// + Q(i+1, l+1) + theta(i) theta(l), the equation itself read entry by entry from the bottom right.
    /// O(p^3 + r^2), where doubling took O(r^3) per step.
    static func stationaryCovariance(phi: [Double], theta: [Double], r: Int) throws(ForecastError) -> [Double] {
        let p = phi.count
        func ar(_ k: Int) -> Double { k >= 1 && k <= p ? phi[k - 1] : 0 }  // phi_k, 1-based
        func ma(_ k: Int) -> Double { k == 0 ? 1 : (k <= theta.count ? theta[k - 1] : 0) }  // theta_k, theta_0 = 1
        var psi = [Double](repeating: 0, count: r + 1)
        for j in 0...r {
            var v = ma(j)
            for i in stride(from: 1, through: min(j, p), by: 1) { v += ar(i) * psi[j - i] }
            psi[j] = v
        }
        // s_k = sum_{j >= k} theta_j psi_{j - k}: the MA side of the autocovariance equations.
        func s(_ k: Int) -> Double {
            var v = 0.0
            for j in stride(from: k, through: theta.count, by: 1) { v += ma(j) * psi[j - k] }
            return v
        }
        var gamma = [Double](repeating: 0, count: r + 1)
        if p == 0 {
            for k in 0...r { gamma[k] = s(k) }
        } else {
            let n = p + 1
            var a = [Double](repeating: 0, count: n * n)
            var b = [Double](repeating: 0, count: n)
            for k in 0...p {
                a[k + n * k] += 1
                for j in 1...p { a[k + n * abs(k - j)] -= ar(j) }
                b[k] = s(k)
            }
            let solved: [Double]
            do { solved = try Matrix.solve(a, b, n: n) } catch {
                throw ForecastError.nonStationary("the AR part is not stationary")
            }
            for k in 0...min(p, r) { gamma[k] = solved[k] }
            if r > p {
                for k in (p + 1)...r {
                    var v = s(k)
                    for j in 1...p { v += ar(j) * gamma[k - j] }
                    gamma[k] = v
                }
            }
        }
        guard gamma[0] > 0, gamma.allSatisfy(\.isFinite) else {
            throw ForecastError.nonStationary("the AR part is not stationary")
        }
        var c = [Double](repeating: 0, count: r + 1)
        for i in 0..<r {
            var v = 0.0
            for j in 0..<(r - i) { v += ar(i + 1 + j) * gamma[j + 1] + ma(i + j) * psi[j] }
            c[i] = v
        }
        var q = [Double](repeating: 0, count: r * r)
        for i in 0..<r {
            q[i] = c[i]
            q[r * i] = c[i]
        }
        for i in stride(from: r - 1, through: 1, by: -1) {
            for l in stride(from: r - 1, through: i, by: -1) {
                var v = ar(i + 1) * ar(l + 1) * gamma[0] + ar(i + 1) * c[l + 1] + ar(l + 1) * c[i + 1] + ma(i) * ma(l)
                if i + 1 < r && l + 1 < r { v += q[(i + 1) + r * (l + 1)] }
                q[i + r * l] = v
                q[l + r * i] = v
            }
        }
        q[0] = gamma[0]
        return q
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
