import Foundation
import TestSupport
import Testing

/// `corral forecast` as a user runs it: the built binary on the committed fixtures.
@Suite(.timeLimit(.minutes(3))) struct ForecastCLITests {
    func corral(_ arguments: String...) throws -> CommandResult { try runCorral(arguments) }

    func object(_ result: CommandResult) throws -> [String: Any] {
        try #require(result.status == 0, "exit \(result.status): \(result.stderr)")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "not one JSON object: \(result.stdout)")
    }

    @Test("--json prints the chosen model, coefficients, AICc, sigma2 and the forecast with ordered intervals")
    func jsonHasEveryField() throws {
        let result = try corral(
            "forecast", "--csv", "Tests/ForecastTests/Fixtures/AirPassengersLog.csv", "--period", "12", "--horizon",
            "6",
            "--json")
        let json = try object(result)
        let model = try #require(json["model"] as? [String: Any])
        for key in ["p", "d", "q", "P", "D", "Q", "period", "constant"] { #expect(model[key] != nil, "model.\(key)") }
        #expect(model["period"] as? Int == 12)
        #expect(model["decomposition"] == nil)
        // R's auto.arima on log(AirPassengers): ARIMA(0,1,1)(0,1,1)[12]
        #expect(
            [model["p"], model["d"], model["q"], model["P"], model["D"], model["Q"]].map { $0 as? Int } == [
                0, 1, 1, 0, 1, 1,
            ])
        let coefficients = try #require(json["coefficients"] as? [String: Double])
        #expect(Set(coefficients.keys) == ["ma1", "sma1"])
        #expect((json["aicc"] as? Double)?.isFinite == true)
        #expect((json["sigma2"] as? Double).map { $0 > 0 } == true)
        let forecast = try #require(json["forecast"] as? [[String: Double]])
        #expect(forecast.count == 6)
        for point in forecast {
            let v = ["lo95", "lo80", "mean", "hi80", "hi95"].compactMap { point[$0] }
            #expect(v.count == 5 && v == v.sorted(), "\(point)")
        }
    }

    @Test("--period 288 on 5-minute data decomposes the daily season")
    func longPeriodIsDecomposed() throws {
        let result = try corral(
            "forecast", "--csv", "Sources/Benchmarks/Datasets/traces/google2019-cpu-300s.csv", "--period", "288",
            "--horizon", "288", "--json")
        let json = try object(result)
        let model = try #require(json["model"] as? [String: Any])
        #expect(model["decomposition"] as? String == "stl")
        #expect(model["period"] as? Int == 288)
        #expect([model["P"], model["D"], model["Q"]].map { $0 as? Int } == [0, 0, 0])
        #expect((json["forecast"] as? [Any])?.count == 288)
        let text = try corral(
            "forecast", "--csv", "Sources/Benchmarks/Datasets/traces/google2019-cpu-300s.csv", "--period", "288",
            "--horizon", "3")
        #expect(text.stdout.hasPrefix("STL[288] + ARIMA("), "\(text.stdout)")
    }

    @Test("bad input: the option and the reason are named, nothing is printed on stdout")
    func badInputNamesTheOption() throws {
        let missing = try corral("forecast", "--csv", "/no/such.csv")
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--csv: cannot read /no/such.csv"), "\(missing.stderr)")
        #expect(missing.stdout.isEmpty)
        let column = try corral(
            "forecast", "--csv", "Tests/ForecastTests/Fixtures/Nile.csv", "--column", "nope")
        #expect(column.status != 0)
        #expect(column.stderr.contains("nope"), "\(column.stderr)")
        let order = try corral("forecast", "--csv", "Tests/ForecastTests/Fixtures/Nile.csv", "--order", "1,x,1")
        #expect(order.status != 0)
        #expect(order.stderr.contains("--order: \"1,x,1\""), "\(order.stderr)")
    }
}
