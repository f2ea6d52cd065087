import CorralProtocol
import TestSupport
import Testing

@Suite struct MetricsTextTests {
    @Test func histogramsAreCumulativeWithSumCountAndInf() throws {
        var histogram = LatencyHistogram(bounds: [0.01, 0.1, 1])
        for seconds in [0.005, 0.01, 0.05, 0.5, 3, -1, .nan] { histogram.observe(seconds) }
        #expect(histogram.cumulative == [3, 4, 5, 6], "-1 counts as 0; NaN not at all")
        #expect(histogram.count == 6)
        var text = MetricsText()
        text.family("x_seconds", "histogram", "A test.")
        text.histogram("x_seconds", [("phase", "a")], histogram)
        let scrape = try PrometheusScrape(text.text)
        #expect(scrape["x_seconds_bucket", ["phase": "a", "le": "0.01"]] == 3)
        #expect(scrape["x_seconds_bucket", ["phase": "a", "le": "+Inf"]] == 6)
        #expect(scrape["x_seconds_count", ["phase": "a"]] == 6)
        #expect(abs((scrape["x_seconds_sum", ["phase": "a"]] ?? 0) - 3.565) < 1e-9)
    }

    @Test func labelValuesAreEscapedSoAHostileNameCannotForgeASeries() throws {
        var text = MetricsText()
        text.family("g", "gauge", "A test.")
        text.sample("g", ["node": "a\"} 1\ng{node=\"b"], 2)
        #expect(text.text.split(separator: "\n").count == 3, "one sample line: \(text.text)")
        let scrape = try PrometheusScrape(text.text)
        #expect(scrape.values.count == 1)
        #expect(scrape["g", ["node": "a\"} 1\ng{node=\"b"]] == 2)
    }

    @Test func aSampleOutsideItsFamilyOrTwiceIsRejectedByTheStrictReader() {
        #expect(throws: PrometheusScrape.Malformed.self) { try PrometheusScrape("a 1\n") }
        #expect(throws: PrometheusScrape.Malformed.self) { try PrometheusScrape("# TYPE a gauge\na 1\na 2\n") }
    }
}
