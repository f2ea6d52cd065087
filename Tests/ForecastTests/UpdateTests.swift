import Forecast
import Testing

@Suite struct UpdateTests {
    @Test("one Kalman step per new sample forecasts what filtering the whole series at the same coefficients does")
    func appendingEqualsRefiltering() throws {
        let y = try ParityTests.series("WWWusage")
        for (order, constant) in [
            (ARIMAOrder(p: 1, d: 1, q: 1), ARIMAConstant.none), (ARIMAOrder(p: 1, d: 0, q: 1), .mean),
            (ARIMAOrder(p: 1, d: 1, q: 0), .drift),
        ] {
            let head = Array(y.prefix(90))
            var fit = try ARIMA.fit(head, order: order, constant: constant)
            for value in y.dropFirst(90) { fit = fit.appending(value) }
            let whole = try ARIMA.withCoefficients(y, order: order, constant: constant, coefficients: fit.coefficients)
            #expect(fit.observations == y.count)
            // sigma2 stays the estimate's (whole re-estimates it from all residuals): compare the widths in
            // units of each one's sigma.
            for (a, b) in zip(fit.forecast(6), whole.forecast(6)) {
                #expect(abs(a.mean - b.mean) < 1e-9 * max(1, abs(b.mean)), "\(order): \(a.mean) vs \(b.mean)")
                let widthA = (a.hi95 - a.mean) / fit.sigma2.squareRoot()
                let widthB = (b.hi95 - b.mean) / whole.sigma2.squareRoot()
                #expect(abs(widthA - widthB) < 1e-9 * widthB, "\(order): \(widthA) vs \(widthB)")
            }
        }
    }

    @Test("the means-only forecast is the full forecast's mean, constants and seasons included")
    func meansOnlyForecast() throws {
        let passengers = try ParityTests.series("AirPassengersLog")
        let fits = [
            try ARIMA.fit(passengers, order: ARIMAOrder(p: 0, d: 1, q: 1, P: 0, D: 1, Q: 1, period: 12)),
            try ARIMA.fit(try ParityTests.series("WWWusage"), order: ARIMAOrder(p: 1, d: 1, q: 0), constant: .drift),
            try ARIMA.fit(try ParityTests.series("lh"), order: ARIMAOrder(p: 1, d: 0, q: 0), constant: .mean),
        ]
        for fit in fits {
            for (a, b) in zip(fit.forecastMeans(40), fit.forecast(40).map(\.mean)) {
                #expect(abs(a - b) < 1e-9 * max(1, abs(b)), "\(fit.order): \(a) vs \(b)")
            }
        }
    }

    @Test("bad input is refused with a reason, not a trap")
    func badInputIsRefused() throws {
        #expect(throws: ForecastError.self) { try ARIMA.fit([1, 2, 3], order: ARIMAOrder(p: 2, d: 1, q: 2)) }
        #expect(throws: ForecastError.self) {
            try ARIMA.fit([1, .infinity, 3, 4, 5, 6], order: ARIMAOrder(p: 0, d: 0, q: 0))
        }
        #expect(throws: ForecastError.self) { try AutoARIMA().fit([5, 5, 5, 5, 5, 5, 5, 5]) }
        #expect(throws: ForecastError.self) { try CSVSeries.parse("value\n1\nabc\n") }
        #expect(try CSVSeries.parse("t,cpu\n1,0.5\n2,NA\n3,0.7\n", column: "cpu").count == 3)
    }
}
