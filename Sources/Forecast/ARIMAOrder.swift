/// The orders of a seasonal ARIMA (p,d,q)(P,D,Q)m model.
public struct ARIMAOrder: Sendable, Hashable, Codable, CustomStringConvertible {
    public var p: Int
    public var d: Int
    public var q: Int
    public var P: Int
    public var D: Int
    public var Q: Int
    /// Season length; 1 for a non-seasonal model.
    public var period: Int

    public init(p: Int, d: Int, q: Int, P: Int = 0, D: Int = 0, Q: Int = 0, period: Int = 1) {
        self.p = p
        self.d = d
        self.q = q
        self.P = P
        self.D = D
        self.Q = Q
        self.period = period
    }

    public var isSeasonal: Bool { period > 1 && (P > 0 || D > 0 || Q > 0) }
    /// Count of ARMA coefficients: p + q + P + Q.
    public var armaCount: Int { p + q + P + Q }
    /// AR and MA degrees once the seasonal polynomials are multiplied out.
    var expandedP: Int { p + (period > 1 ? period * P : 0) }
    var expandedQ: Int { q + (period > 1 ? period * Q : 0) }
    /// Observations lost to differencing.
    public var differencingLoss: Int { d + (period > 1 ? period * D : 0) }

    public var description: String {
        let base = "ARIMA(\(p),\(d),\(q))"
        return isSeasonal ? base + "(\(P),\(D),\(Q))[\(period)]" : base
    }

    /// `1 - Delta_1 B - ... ` written as the coefficients Delta (R's sign convention): the series'
    /// differencing polynomial (1-B)^d (1-B^m)^D = 1 - sum Delta_i B^i.
    var delta: [Double] {
        var poly: [Double] = [1]
        for _ in 0..<d { poly = Polynomial.multiply(poly, [1, -1]) }
        if period > 1 {
            for _ in 0..<D { poly = Polynomial.multiply(poly, [1] + Array(repeating: 0, count: period - 1) + [-1]) }
        }
        return poly.dropFirst().map { -$0 }
    }
}
