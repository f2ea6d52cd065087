import ArgumentParser
import Forecast
import Foundation

struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Fit an ARIMA model to a series in a CSV file and forecast it with 80% and 95% intervals.",
        discussion: """
            Without --order the model is chosen as R's forecast::auto.arima chooses it: KPSS for d, seasonal \
            strength for D (with --period), a stepwise search on AICc. A --period above 52 (288: a daily \
            cycle in 5-minute data) is taken out by an STL decomposition first and the rest modelled by a \
            non-seasonal ARIMA; forecasts add the last seasonal cycle back.
            """)

    @Option(help: "CSV file: one numeric column, a header line optional.") var csv: String
    @Option(help: "Column to read (by header name; default the first).") var column: String?
    @Option(help: "Non-seasonal order p,d,q (default: chosen automatically).") var order: String?
    @Option(help: "Seasonal order P,D,Q (with --order and --period).") var seasonal: String = "0,0,0"
    @Option(help: "Season length in observations.") var period = 1
    @Option(help: "With --order: none, mean (d + D = 0) or drift (d + D = 1); default: mean when d + D = 0.")
    var constant: ARIMAConstant?
    @Option(help: "Steps to forecast.") var horizon = 12
    @Flag(help: "Print one JSON object.") var json = false

    static func triple(_ text: String, _ option: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("\(option): \"\(text)\" is not three non-negative integers like 2,1,2")
        }
        return parts.map { $0! }
    }

    func validate() throws {
        if let order { _ = try Self.triple(order, "--order") }
        _ = try Self.triple(seasonal, "--seasonal")
        if order == nil, constant != nil { throw ValidationError("--constant needs --order") }
        guard period >= 1 else { throw ValidationError("--period must be at least 1") }
        guard (1...10_000).contains(horizon) else { throw ValidationError("--horizon must be 1...10000") }
    }

    func run() throws {
        let text: String
        do { text = try String(contentsOfFile: csv, encoding: .utf8) } catch {
            throw ValidationError("--csv: cannot read \(csv): \(error.localizedDescription)")
        }
        let fit: ARIMAFit
        do {
            let series = try CSVSeries.parse(text, column: column)
            if let order {
                let (o, s) = (try Self.triple(order, "--order"), try Self.triple(seasonal, "--seasonal"))
                let model = ARIMAOrder(p: o[0], d: o[1], q: o[2], P: s[0], D: s[1], Q: s[2], period: period)
                fit = try ARIMA.fit(
                    series, order: model, constant: constant ?? (model.differencingLoss == 0 ? .mean : .none))
            } else {
                fit = try AutoARIMA().fit(series, period: period)
            }
        } catch let error as ForecastError {
            throw ValidationError("\(csv): \(error)")
        }
        let forecast = fit.forecast(horizon)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(ForecastReport(fit, forecast)), as: UTF8.self))
            return
        }
        print("\(fit.modelDescription)\(fit.constant == .none ? "" : " with \(fit.constant.rawValue)")")
        for (name, value) in zip(fit.coefficientNames, fit.coefficients) {
            print(String(format: "  %-10@ %12.6f", name, value))
        }
        print(
            String(
                format: "log-likelihood %.4f   AICc %.4f   sigma2 %.6g", fit.logLikelihood, fit.aicc, fit.sigma2))
        print("step        mean       lo80       hi80       lo95       hi95")
        for (step, point) in forecast.enumerated() {
            print(
                String(
                    format: "%4d  %10.4f %10.4f %10.4f %10.4f %10.4f", step + 1, point.mean, point.lo80, point.hi80,
                    point.lo95, point.hi95))
        }
    }
}

extension ARIMAConstant: ExpressibleByArgument {}

/// `corral forecast --json`.
struct ForecastReport: Encodable {
    struct Model: Encodable {
        var p, d, q, P, D, Q, period: Int
        var constant: Bool
        /// "stl" when the season (`period`) was taken out by a decomposition, absent otherwise.
        var decomposition: String?
    }
    var model: Model
    var coefficients: [String: Double]
    var loglik: Double
    var aicc: Double
    var sigma2: Double
    var forecast: [ForecastPoint]

    init(_ fit: ARIMAFit, _ forecast: [ForecastPoint]) {
        let o = fit.order
        model = Model(
            p: o.p, d: o.d, q: o.q, P: o.P, D: o.D, Q: o.Q, period: fit.decomposition?.period ?? o.period,
            constant: fit.constant != .none, decomposition: fit.decomposition == nil ? nil : "stl")
        coefficients = Dictionary(uniqueKeysWithValues: zip(fit.coefficientNames, fit.coefficients))
        loglik = fit.logLikelihood
        aicc = fit.aicc
        sigma2 = fit.sigma2
        self.forecast = forecast
    }
}
