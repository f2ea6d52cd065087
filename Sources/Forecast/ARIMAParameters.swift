import RealModule

/// Coefficient vectors in R's order: ar[p], ma[q], sar[P], sma[Q], then regression coefficients.
enum ARIMAParameters {
    /// The expanded AR (phi) and MA (theta) polynomials' coefficients from the ARMA coefficients;
    /// `transform` first maps the AR blocks from PACF space (tanh + Durbin-Levinson) to coefficients.
    static func expand(_ coefficients: [Double], _ order: ARIMAOrder, transform: Bool) -> (
        phi: [Double], theta: [Double]
    ) {
        var params = Array(coefficients.prefix(order.armaCount))
        if transform {
            if order.p > 0 { params.replaceSubrange(0..<order.p, with: fromPACF(Array(params[0..<order.p]))) }
            let v = order.p + order.q
            if order.P > 0 { params.replaceSubrange(v..<v + order.P, with: fromPACF(Array(params[v..<v + order.P]))) }
        }
        let (p, q, sp, sq, m) = (order.p, order.q, order.P, order.Q, order.period)
        guard m > 1, sp + sq > 0 else { return (Array(params[0..<p]), Array(params[p..<p + q])) }
        var phi = [Double](repeating: 0, count: p + m * sp)
        var theta = [Double](repeating: 0, count: q + m * sq)
        for i in 0..<p { phi[i] = params[i] }
        for i in 0..<q { theta[i] = params[p + i] }
        for j in 0..<sp {
            let s = params[p + q + j]
            phi[(j + 1) * m - 1] += s
            for i in 0..<p { phi[(j + 1) * m + i] -= params[i] * s }
        }
        for j in 0..<sq {
            let s = params[p + q + sp + j]
            theta[(j + 1) * m - 1] += s
            for i in 0..<q { theta[(j + 1) * m + i] += params[p + i] * s }
        }
        return (phi, theta)
    }

    /// PACF values in (-1, 1) (as tanh of the raw values) to AR coefficients, by Durbin-Levinson.
    static func fromPACF(_ raw: [Double]) -> [Double] {
        var new = raw.map { Double.tanh($0) }
        var work = new
        for j in 1..<max(new.count, 1) {
            let a = new[j]
            for k in 0..<j { work[k] -= a * new[j - k - 1] }
            for k in 0..<j { new[k] = work[k] }
        }
        return new
    }

    /// AR coefficients to raw PACF values (atanh), running Durbin-Levinson backwards.
    static func toPACF(_ phi: [Double]) -> [Double] {
        var new = phi
        var work = phi
        for j in stride(from: phi.count - 1, through: 1, by: -1) {
            let a = new[j]
            for k in 0..<j { work[k] = (new[k] + a * new[j - k - 1]) / (1 - a * a) }
            for k in 0..<j { new[k] = work[k] }
        }
        return new.map { Double.atanh($0) }
    }

    /// Coefficients in R's order with the AR blocks mapped to (`toPACF`) or from (`fromPACF`) PACF space.
    static func mapARBlocks(_ coefficients: [Double], _ order: ARIMAOrder, _ map: ([Double]) -> [Double]) -> [Double] {
        var result = coefficients
        if order.p > 0 { result.replaceSubrange(0..<order.p, with: map(Array(result[0..<order.p]))) }
        let v = order.p + order.q
        if order.P > 0 { result.replaceSubrange(v..<v + order.P, with: map(Array(result[v..<v + order.P]))) }
        return result
    }
}
