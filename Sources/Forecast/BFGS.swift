/// A variable-metric (BFGS) minimiser in the manner of R's `optim(method = "BFGS")` (Nash's vmmin):
/// backtracking line search with an Armijo test (acctol 1e-4, step reduction 0.2), the inverse Hessian
/// reset to the identity when a step fails to make progress, relative tolerance on the objective, an
/// iteration cap, and central-difference gradients with step `ndeps` on the parscale'd parameters.
struct BFGS {
    var maxIterations = 100
    var relativeTolerance = 1.490116119384765625e-8  // sqrt(machine epsilon), as R's default reltol
    var gradientStep = 1e-3
    /// Parameters are optimised as x / parscale (R's `parscale`).
    var parscale: [Double]

    struct Result {
        var x: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    /// Central differences with step `gradientStep` in the scaled parameters u = x / parscale.
    func gradient(scaled u: [Double], _ f: ([Double]) -> Double) throws(ForecastError) -> [Double] {
        let scale = parscale.count == u.count ? parscale : [Double](repeating: 1, count: u.count)
        var g = [Double](repeating: 0, count: u.count)
        var probe = u
        for i in 0..<u.count {
            probe[i] = u[i] + gradientStep
            let up = f(zip(probe, scale).map { $0 * $1 })
            probe[i] = u[i] - gradientStep
            let down = f(zip(probe, scale).map { $0 * $1 })
            probe[i] = u[i]
            g[i] = (up - down) / (2 * gradientStep)
            guard g[i].isFinite else { throw ForecastError.notFinite("non-finite finite-difference gradient") }
        }
        return g
    }

    /// The Hessian of `f` at `x` (in x's own units, row-major, symmetrised) by differences of the
    /// numerical gradient, as R's optimhess.
    func hessian(at x: [Double], _ f: ([Double]) -> Double) throws(ForecastError) -> [Double] {
        let n = x.count
        let scale = parscale.count == n ? parscale : [Double](repeating: 1, count: n)
        var u = zip(x, scale).map { $0 / $1 }
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            let eps = gradientStep / scale[i]
            u[i] += eps
            let up = try gradient(scaled: u, f)
            u[i] -= 2 * eps
            let down = try gradient(scaled: u, f)
            u[i] += eps
            for j in 0..<n { h[i * n + j] = (up[j] - down[j]) / (2 * eps * scale[i] * scale[j]) }
        }
        for i in 0..<n {
            for j in 0..<i {
                let mean = 0.5 * (h[i * n + j] + h[j * n + i])
                h[i * n + j] = mean
                h[j * n + i] = mean
            }
        }
        return h
    }

    /// Minimises `f` from `start`. `f` returns +infinity (or a huge value) where it is undefined.
    func minimize(_ start: [Double], _ f: ([Double]) -> Double) throws(ForecastError) -> Result {
        let n = start.count
        let scale = parscale.count == n ? parscale : [Double](repeating: 1, count: n)
        func fs(_ u: [Double]) -> Double { f(zip(u, scale).map { $0 * $1 }) }
        func gradient(_ u: [Double]) throws(ForecastError) -> [Double] { try self.gradient(scaled: u, f) }
        var b = zip(start, scale).map { $0 / $1 }
        guard n > 0 else { return Result(x: start, value: f(start), iterations: 0, converged: true) }
        var fmin = fs(b)
        guard fmin.isFinite else { throw ForecastError.notFinite("the objective is not finite at the start values") }
        var g = try gradient(b)
        var gradcount = 1
        var iterations = 1
        var ilast = gradcount
        var H = [Double](repeating: 0, count: n * n)  // lower triangle used, row-major H[i*n+j], j <= i
        var t = [Double](repeating: 0, count: n)
        var X = [Double](repeating: 0, count: n)
        var c = [Double](repeating: 0, count: n)
        var count = 0
        let reltest = 10.0
        repeat {
            if ilast == gradcount {
                for i in 0..<n {
                    for j in 0..<i { H[i * n + j] = 0 }
                    H[i * n + i] = 1
                }
            }
            for i in 0..<n {
                X[i] = b[i]
                c[i] = g[i]
            }
            var gradproj = 0.0
            for i in 0..<n {
                var s = 0.0
                for j in 0...i { s -= H[i * n + j] * g[j] }
                for j in stride(from: i + 1, to: n, by: 1) { s -= H[j * n + i] * g[j] }
                t[i] = s
                gradproj += s * g[i]
            }
            if gradproj < 0 {
                var steplength = 1.0
                var accepted = false
                var f = fmin
                repeat {
                    count = 0
                    for i in 0..<n {
                        b[i] = X[i] + steplength * t[i]
                        if reltest + X[i] == reltest + b[i] { count += 1 }
                    }
                    if count < n {
                        f = fs(b)
                        accepted = f.isFinite && f <= fmin + gradproj * steplength * 1e-4
                        if !accepted { steplength *= 0.2 }
                    }
                } while !(count == n || accepted)
                let enough = abs(f - fmin) > relativeTolerance * (abs(fmin) + relativeTolerance)
                if !enough {
                    count = n
                    fmin = f
                }
                if count < n {
                    fmin = f
                    g = try gradient(b)
                    gradcount += 1
                    iterations += 1
                    var d1 = 0.0
                    for i in 0..<n {
                        t[i] *= steplength
                        c[i] = g[i] - c[i]
                        d1 += t[i] * c[i]
                    }
                    if d1 > 0 {
                        var d2 = 0.0
                        for i in 0..<n {
                            var s = 0.0
                            for j in 0...i { s += H[i * n + j] * c[j] }
                            for j in stride(from: i + 1, to: n, by: 1) { s += H[j * n + i] * c[j] }
                            X[i] = s
                            d2 += s * c[i]
                        }
                        d2 = 1 + d2 / d1
                        for i in 0..<n {
                            for j in 0...i { H[i * n + j] += (d2 * t[i] * t[j] - X[i] * t[j] - t[i] * X[j]) / d1 }
                        }
                    } else {
                        ilast = gradcount
                    }
                } else if ilast < gradcount {
                    count = 0
                    ilast = gradcount
                }
            } else {
                count = 0
                if ilast == gradcount { count = n } else { ilast = gradcount }
            }
            if iterations >= maxIterations { break }
            if gradcount - ilast > 2 * n { ilast = gradcount }
        } while count != n || ilast != gradcount
        return Result(
            x: zip(b, scale).map { $0 * $1 }, value: fmin, iterations: iterations, converged: iterations < maxIterations
        )
    }
}
