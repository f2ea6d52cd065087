/// Forecasts from the filtered state: means and variance multipliers, or the means alone.
extension StateSpace {
    /// The means alone `h` steps ahead: the state moved on by the transition, O(h (r + d)), where the
    /// variances cost a covariance product per step.
    func forecastMeans(_ h: Int) -> [Double] {
        let (p, d) = (phi.count, delta.count)
        var state = a
        var next = a
        var means: [Double] = []
        means.reserveCapacity(h)
        for _ in 0..<h {
            for i in 0..<r { next[i] = (i < r - 1 ? state[i + 1] : 0) + (i < p ? phi[i] * state[0] : 0) }
            if d > 0 {
                var level = state[0]
                for k in 0..<d { level += delta[k] * state[r + k] }
                next[r] = level
                for k in stride(from: 1, to: d, by: 1) { next[r + k] = state[r + k - 1] }
            }
            swap(&state, &next)
            var mean = state[0]
            for k in 0..<d { mean += delta[k] * state[r + k] }
            means.append(mean)
        }
        return means
    }

    /// `h` steps ahead of the filtered state: means (`forecastMeans`) and variance multipliers (times
    /// sigma2 for the prediction variance), without changing the model.
    func forecast(_ h: Int) -> (mean: [Double], variance: [Double]) {
        let rd = self.rd
        var t = [Double](repeating: 0, count: rd * rd)
        for i in 0..<phi.count { t[i] = phi[i] }
        for i in 0..<(r - 1) { t[i + rd * (i + 1)] = 1 }
        if !delta.isEmpty {
            // row r: Z = (1, 0..., Delta)
            t[r + rd * 0] = 1
            for k in 0..<delta.count { t[r + rd * (r + k)] = delta[k] }
            for i in stride(from: 1, to: delta.count, by: 1) { t[(r + i) + rd * (r + i - 1)] = 1 }
        }
        var rv = [Double](repeating: 0, count: rd)
        rv[0] = 1
        for i in 0..<min(theta.count, r - 1) { rv[i + 1] = theta[i] }
        var cov = P
        var variances: [Double] = []
        for _ in 0..<h {
            var predicted = Matrix.multiply(Matrix.multiply(t, cov, rd), t, rd, transposingB: true)
            for j in 0..<rd { for i in 0..<rd { predicted[i + rd * j] += rv[i] * rv[j] } }
            cov = predicted
            // Z P Z'
            var z = [Double](repeating: 0, count: rd)
            z[0] = 1
            for k in 0..<delta.count { z[r + k] = delta[k] }
            var variance = 0.0
            for j in 0..<rd where z[j] != 0 {
                for i in 0..<rd where z[i] != 0 { variance += z[i] * cov[i + rd * j] * z[j] }
            }
            variances.append(variance)
        }
        return (forecastMeans(h), variances)
    }
}
