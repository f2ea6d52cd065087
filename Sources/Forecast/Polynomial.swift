import RealModule

/// Real polynomials as coefficient arrays, lowest power first, and their complex roots.
enum Polynomial {
    static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        guard !a.isEmpty, !b.isEmpty else { return [] }
        var result = [Double](repeating: 0, count: a.count + b.count - 1)
        for (i, x) in a.enumerated() where x != 0 {
            for (j, y) in b.enumerated() { result[i + j] += x * y }
        }
        return result
    }

    /// The complex roots of `c0 + c1 z + ... + cn z^n` (trailing zero coefficients dropped), by the
    /// Aberth-Ehrlich simultaneous iteration started on a circle of the Cauchy bound's radius.
    static func roots(_ coefficients: [Double]) -> [Complex] {
        var c = coefficients
        while let last = c.last, last == 0 { c.removeLast() }
        let n = c.count - 1
        guard n >= 1 else { return [] }
        if n == 1 { return [Complex(-c[0] / c[1], 0)] }
        let monic = c.map { Complex($0 / c[n], 0) }
        let radius = 1 + c.dropLast().map { abs($0 / c[n]) }.max()!
        var z = (0..<n).map { k -> Complex in
            let angle = 2 * Double.pi * Double(k) / Double(n) + 0.4
            return Complex(radius * Double.cos(angle), radius * Double.sin(angle))
        }
        func evaluate(_ x: Complex) -> (value: Complex, derivative: Complex) {
            var value = monic[n]
            var derivative = Complex(0, 0)
            for k in stride(from: n - 1, through: 0, by: -1) {
                derivative = derivative * x + value
                value = value * x + monic[k]
            }
            return (value, derivative)
        }
        for _ in 0..<500 {
            var moved = 0.0
            for i in 0..<n {
                let (value, derivative) = evaluate(z[i])
                if value.magnitude == 0 { continue }
                let ratio = value / derivative
                var sum = Complex(0, 0)
                for j in 0..<n where j != i { sum = sum + Complex(1, 0) / (z[i] - z[j]) }
                let step = ratio / (Complex(1, 0) - ratio * sum)
                z[i] = z[i] - step
                moved = max(moved, step.magnitude / max(1, z[i].magnitude))
            }
            if moved < 1e-15 { break }
        }
        return z
    }

    /// Whether every root of `1 - ar_1 z - ... - ar_p z^p` lies outside the unit circle (R's arCheck),
    /// trailing zero coefficients ignored.
    static func isStationary(_ ar: [Double]) -> Bool {
        var p = ar.count
        while p > 0, ar[p - 1] == 0 { p -= 1 }
        guard p > 0 else { return true }
        return roots([1] + ar[0..<p].map { -$0 }).allSatisfy { $0.magnitude > 1 }
    }

    /// The MA coefficients with every root of `1 + theta_1 z + ...` inside the unit circle reflected
    /// outside (R's maInvert): the same autocovariances, an invertible representation.
    static func invertMA(_ ma: [Double]) -> [Double] {
        var q0 = ma.count
        while q0 > 0, ma[q0 - 1] == 0 { q0 -= 1 }
        guard q0 > 0 else { return ma }
        var found = roots([1] + ma[0..<q0])
        let inside = found.map { $0.magnitude < 1 }
        guard inside.contains(true) else { return ma }
        if q0 == 1 { return [1 / ma[0]] + Array(repeating: 0, count: ma.count - 1) }
        for i in found.indices where inside[i] { found[i] = Complex(1, 0) / found[i] }
        // prod (1 - z / root), expanded
        var x: [Complex] = [Complex(1, 0)]
        for root in found {
            var next = x + [Complex(0, 0)]
            for k in 0..<x.count { next[k + 1] = next[k + 1] - x[k] / root }
            x = next
        }
        return x.dropFirst().map(\.re) + Array(repeating: 0, count: ma.count - q0)
    }
}

/// A complex number, for polynomial roots.
struct Complex: Sendable, Equatable {
    var re: Double
    var im: Double
    init(_ re: Double, _ im: Double) {
        self.re = re
        self.im = im
    }
    var magnitude: Double { (re * re + im * im).squareRoot() }
    static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    static func * (a: Complex, b: Complex) -> Complex {
        Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    static func / (a: Complex, b: Complex) -> Complex {
        let scale = b.re * b.re + b.im * b.im
        return Complex((a.re * b.re + a.im * b.im) / scale, (a.im * b.re - a.re * b.im) / scale)
    }
}
