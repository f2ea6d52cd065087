import CorralClient
import CorralModel
import CorralProtocol
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// The configuration file's settings: each problem names its field; valid ones reach the core.
@Suite struct SchedulerConfigTests {
    static func config(horizons: [Double]?) -> SchedulerConfig {
        var config = RouterTests.config
        config.forecastHorizonsSeconds = horizons
        return config
    }

    @Test("forecastHorizonsSeconds: ascending positive seconds reach the scheduler core; others name the field")
    func forecastHorizons() {
        #expect(Self.config(horizons: nil).core.forecastHorizons == [60, 600, 3600])
        #expect(Self.config(horizons: [30, 300]).problems().isEmpty)
        #expect(Self.config(horizons: [30, 300]).core.forecastHorizons == [30, 300])
        for bad: [Double] in [[], [600, 60], [0, 60], [60, 60], Array(repeating: 1, count: 9)] {
            let problems = Self.config(horizons: bad).problems()
            #expect(problems.map(\.field) == ["forecastHorizonsSeconds"], "\(bad): \(problems)")
        }
    }
}
