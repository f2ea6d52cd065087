import Forecast
import Foundation
import TestSupport
import Testing

/// Fixed-order fits against R's forecast package (8.20, `Arima(method = "CSS-ML")`) on real series of R's
/// datasets package: the likelihood function itself, the optimum reached, sigma2 and forecasts.
@Suite struct ParityTests {
    struct Reference: Decodable, CustomTestStringConvertible {
        var name: String
        var series: String
        var period: Int
        var order: [Int]
        var seasonal: [Int]
        var constant: String
        var coefficients: [Double]
        var se: [Double?]
        var loglik: Double
        var aicc: Double
        var sigma2: Double
        var mean: [Double]
        var lo80: [Double]
        var hi80: [Double]
        var lo95: [Double]
        var hi95: [Double]

        var testDescription: String { name }
        var arimaOrder: ARIMAOrder {
            ARIMAOrder(
                p: order[0], d: order[1], q: order[2], P: seasonal[0], D: seasonal[1], Q: seasonal[2], period: period)
        }
        var arimaConstant: ARIMAConstant { ARIMAConstant(rawValue: constant)! }
    }

    static let directory = repositoryRoot() + "/Tests/ForecastTests/Fixtures"
    static let references: [Reference] = {
        let data = FileManager.default.contents(atPath: directory + "/fixed-order.json") ?? Data("[]".utf8)
        return (try? JSONDecoder().decode([Reference].self, from: data)) ?? []
    }()

    static func series(_ name: String, in directory: String = directory) throws -> [Double] {
        let text = try String(contentsOfFile: directory + "/\(name).csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan }
    }

    @Test func theFixturesAreThere() {
        #expect(Self.references.count == 15, "fixed-order.json: regenerate with make-fixtures.R")
    }

    @Test("the log-likelihood at R's coefficients equals R's to 1e-6 relative", arguments: references)
    func likelihoodAtRsCoefficients(_ reference: Reference) throws {
        let y = try Self.series(reference.series)
        let loglik = try ARIMA.logLikelihood(
            y, order: reference.arimaOrder, constant: reference.arimaConstant, coefficients: reference.coefficients)
        #expect(abs(loglik - reference.loglik) <= 1e-6 * abs(reference.loglik), "ours \(loglik), R \(reference.loglik)")
    }

    @Test("a fixed-order fit never lands more than 0.01 below R's log-likelihood", arguments: references)
    func optimumAtLeastAsGoodAsRs(_ reference: Reference) throws {
        let y = try Self.series(reference.series)
        let fit = try ARIMA.fit(y, order: reference.arimaOrder, constant: reference.arimaConstant)
        #expect(
            fit.logLikelihood >= reference.loglik - 0.01,
            "ours \(fit.logLikelihood) at \(fit.coefficients), R \(reference.loglik) at \(reference.coefficients)")
    }

    @Test(
        "every fit reaches R's optimum, and its sigma2, AICc, standard errors and 12-step forecast with all four interval bounds are R's",
        arguments: references)
    func forecastsMatchRsAtTheSameOptimum(_ reference: Reference) throws {
        let y = try Self.series(reference.series)
        let fit = try ARIMA.fit(y, order: reference.arimaOrder, constant: reference.arimaConstant)
        // All 15 reach R's optimum today; a fit that finds another must fail here, not skip the comparison.
        try #require(
            abs(fit.logLikelihood - reference.loglik) < 1e-3,
            "ours \(fit.logLikelihood) at \(fit.coefficients), R \(reference.loglik) at \(reference.coefficients)")
        func close(_ a: Double, _ b: Double, _ what: String) {
            #expect(abs(a - b) <= 1e-3 * max(1, abs(b)), "\(what): ours \(a), R \(b)")
        }
        close(fit.sigma2, reference.sigma2, "sigma2")
        close(fit.aicc, reference.aicc, "aicc")
        try #require(
            fit.standardErrors.count == reference.se.count,
            "standard errors: ours \(fit.standardErrors), R \(reference.se)")
        for (index, theirs) in reference.se.enumerated() {
            let ours = fit.standardErrors[index]
            if let theirs {
                #expect(abs(ours - theirs) <= 1e-2 * theirs, "se[\(index)]: ours \(ours), R \(theirs)")
            } else {
                #expect(ours.isNaN, "se[\(index)]: ours \(ours), R NaN")
            }
        }
        let forecast = fit.forecast(12)
        let bounds = [reference.mean, reference.lo80, reference.hi80, reference.lo95, reference.hi95]
        try #require(forecast.count == 12 && bounds.allSatisfy { $0.count == 12 }, "12 steps on both sides")
        for (step, point) in forecast.enumerated() {
            close(point.mean, reference.mean[step], "mean[\(step)]")
            close(point.lo80, reference.lo80[step], "lo80[\(step)]")
            close(point.hi80, reference.hi80[step], "hi80[\(step)]")
            close(point.lo95, reference.lo95[step], "lo95[\(step)]")
            close(point.hi95, reference.hi95[step], "hi95[\(step)]")
        }
    }
}
