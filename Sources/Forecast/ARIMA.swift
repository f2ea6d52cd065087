import RealModule

/// What a model adds to its ARMA part: nothing, a mean (undifferenced series), or a drift (a linear
/// trend through a once-differenced series), as regression coefficients estimated with the ARMA ones.
public enum ARIMAConstant: String, Sendable, Codable, CaseIterable {
    case none, mean, drift
}

/// A fitted ARIMA model: coefficients, likelihood and information criteria, innovation variance, and the
/// filter state at the end of the series, from which it forecasts.
public struct ARIMAFit: Sendable {
    public let order: ARIMAOrder
    public let constant: ARIMAConstant
    /// In R's order: ar1..p, ma1..q, sar1..P, sma1..Q, then intercept or drift.
    public let coefficients: [Double]
    public let logLikelihood: Double
    public let aic: Double
    public let aicc: Double
    public let bic: Double
    /// Innovation variance as R's forecast package reports and uses it: sum of squared residuals over
    /// (n - d - D m) - (coefficients + 1) + 1.
    public let sigma2: Double
    /// The ML innovation variance (ssq / observations used), as stats::arima reports it.
    public let mlSigma2: Double?
    /// Standard errors of the coefficients from the numerical Hessian (NaN where it is singular or not
    /// positive definite there: the automatic search rejects such fits, as R's auto.arima does).
    public let standardErrors: [Double]
    /// Standardised one-step innovations (NaN where the series is missing).
    public let residuals: [Double]
    public let observations: Int
    let state: StateSpace
    /// For a long seasonal period: the STL seasonal component the ARIMA part was fitted without (it
    /// is then non-seasonal); forecasts add it back and new observations are adjusted by it.
    public internal(set) var decomposition: SeasonalDecomposition? = nil

    /// The model as people write it: `ARIMA(1,1,1)(0,1,1)[12]`, or `STL[288] + ARIMA(2,0,1)`.
    public var modelDescription: String {
        decomposition.map { "STL[\($0.period)] + \(order)" } ?? order.description
    }

    /// Coefficient names in R's style.
    public var coefficientNames: [String] {
        var names: [String] = []
        names += (0..<order.p).map { "ar\($0 + 1)" }
        names += (0..<order.q).map { "ma\($0 + 1)" }
        names += (0..<order.P).map { "sar\($0 + 1)" }
        names += (0..<order.Q).map { "sma\($0 + 1)" }
        switch constant {
        case .none: break
        case .mean: names.append("intercept")
        case .drift: names.append("drift")
        }
        return names
    }

    var regressionCoefficient: Double? { constant == .none ? nil : coefficients.last }
}

/// One forecast step: the mean and its 80% and 95% prediction intervals.
public struct ForecastPoint: Sendable, Codable, Equatable {
    public var mean: Double
    public var lo80: Double
    public var hi80: Double
    public var lo95: Double
    public var hi95: Double
}

public enum ARIMA {
    /// Normal quantiles for the 80% and 95% intervals (qnorm(0.9), qnorm(0.975)).
    public static let z80 = 1.2815515655446004
    public static let z95 = 1.959963984540054

    /// Fits the model by conditional sum of squares for start values, then exact maximum likelihood
    /// (R's "CSS-ML"), with the AR blocks kept stationary through the PACF transform and the MA blocks
    /// made invertible before and after.
    /// `standardErrorsBelow`: work the standard errors out only for a fit whose AICc is below it (a
    /// model search skips them for candidates that cannot win); their array is empty otherwise.
    public static func fit(
        _ y: [Double], order: ARIMAOrder, constant: ARIMAConstant = .none, standardErrorsBelow: Double = .infinity
    ) throws(ForecastError) -> ARIMAFit {
        let problem = try Problem(y: y, order: order, constant: constant)
        return try problem.fit(standardErrorsBelow: standardErrorsBelow)
    }

    /// The model at given coefficients (R's order, untransformed) without estimating them: likelihood,
    /// residuals and the filter state to forecast from; standard errors are NaN.
    public static func withCoefficients(
        _ y: [Double], order: ARIMAOrder, constant: ARIMAConstant = .none, coefficients: [Double]
    ) throws(ForecastError) -> ARIMAFit {
        let problem = try Problem(y: y, order: order, constant: constant)
        guard coefficients.count == problem.parameterCount else {
            throw ForecastError.invalidInput(
                "\(order) with constant \(constant.rawValue) has \(problem.parameterCount) coefficients, not \(coefficients.count)"
            )
        }
        let value = try problem.mlObjective(coefficients, transformed: false)
        return try problem.makeFit(
            coefficients, objective: value, standardErrors: [Double](repeating: .nan, count: coefficients.count))
    }

    /// The exact Gaussian log-likelihood at the given coefficients (R's order, untransformed), as
    /// `stats::arima` reports it for a fit that ended there.
    public static func logLikelihood(
        _ y: [Double], order: ARIMAOrder, constant: ARIMAConstant = .none, coefficients: [Double]
    ) throws(ForecastError) -> Double {
        try withCoefficients(y, order: order, constant: constant, coefficients: coefficients).logLikelihood
    }
}

extension ARIMAFit {
    /// The same model after one more observation: one Kalman step from the end of the series, so a
    /// forecast can follow every new sample while the model itself is re-estimated now and then.
    public func appending(_ value: Double) -> ARIMAFit {
        var next = state
        var adjusted = value - (decomposition?.value(at: observations) ?? 0)
        switch constant {
        case .none: break
        case .mean: adjusted -= coefficients.last ?? 0
        case .drift: adjusted -= (coefficients.last ?? 0) * Double(observations + 1)
        }
        let step = next.filter([adjusted], residuals: true, continuing: true)
        return ARIMAFit(
            order: order, constant: constant, coefficients: coefficients, logLikelihood: logLikelihood, aic: aic,
            aicc: aicc, bic: bic, sigma2: sigma2, mlSigma2: mlSigma2, standardErrors: standardErrors,
            residuals: residuals + step.residuals, observations: observations + 1, state: next,
            decomposition: decomposition)
    }

    /// The mean forecast alone `h` steps ahead: cheap enough for every new sample, where `forecast`
    /// also propagates the covariance (a model's interval widths hardly change from one sample to the next).
    public func forecastMeans(_ h: Int) -> [Double] {
        state.forecastMeans(h).enumerated().map { $0.element + added(atStep: $0.offset) }
    }

    /// What the forecast adds to the ARMA part's at `step` (0 the next observation): the mean or drift
    /// term and the decomposition's seasonal component.
    func added(atStep step: Int) -> Double {
        var value = decomposition?.value(at: observations + step) ?? 0
        switch constant {
        case .none: break
        case .mean: value += coefficients.last ?? 0
        case .drift: value += (coefficients.last ?? 0) * Double(observations + step + 1)
        }
        return value
    }

    /// The same fit with its standard errors filled in.
    func with(standardErrors: [Double]) -> ARIMAFit {
        ARIMAFit(
            order: order, constant: constant, coefficients: coefficients, logLikelihood: logLikelihood, aic: aic,
            aicc: aicc, bic: bic, sigma2: sigma2, mlSigma2: mlSigma2, standardErrors: standardErrors,
            residuals: residuals, observations: observations, state: state, decomposition: decomposition)
    }

    /// `h` steps ahead with 80% and 95% intervals (normal, variance from the filter times sigma2).
    public func forecast(_ h: Int) -> [ForecastPoint] {
        let (means, variances) = state.forecast(h)
        return (0..<h).map { step in
            let mean = means[step] + added(atStep: step)
            let se = (variances[step] * sigma2).squareRoot()
            return ForecastPoint(
                mean: mean, lo80: mean - ARIMA.z80 * se, hi80: mean + ARIMA.z80 * se, lo95: mean - ARIMA.z95 * se,
                hi95: mean + ARIMA.z95 * se)
        }
    }
}
