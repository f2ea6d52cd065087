import CorralModel
import Forecast
import Placement
import Scheduler
import TestSupport
import Testing

/// The scheduler's load forecaster: sampling reports into a regular series, the EWMA stand-in while a
/// node has little history, models selected off the actor and installed, one step per new sample.
@Suite struct ARIMAForecasterTests {
    /// A node whose CPU ramps up by 0.4% per sample with a little noise, reported every 5 s.
    static func ramp(_ forecaster: inout ARIMAForecaster, samples: Int, from start: Int = 0) {
        var random = SplitMix64(seed: 11)
        for i in start..<(start + samples) {
            let noise = (random.nextDouble() - 0.5) * 0.01
            let load = NodeLoad(cpu: 0.2 + 0.004 * Double(i) + noise, memory: 0.5, io: 0.1 + noise)
            forecaster.observe(node: "n1", load: load, at: Double(i) * 5 + 1)
        }
    }

    @Test("a rising load is forecast ahead of the weighted mean once a model is installed; before, the mean stands in")
    func forecastLeadsARisingLoad() {
        var forecaster = ARIMAForecaster(configuration: .init(sampleSeconds: 5))
        Self.ramp(&forecaster, samples: 20)
        var ewma = EWMAForecaster()
        for i in 0..<20 {
            ewma.observe(node: "n1", load: NodeLoad(cpu: 0.2 + 0.004 * Double(i), memory: 0.5, io: 0.1), at: 0)
        }
        #expect(forecaster.refitWork(limit: 8).isEmpty, "fewer samples than minimumSamples: no model yet")
        #expect(
            abs(
                forecaster.forecast(node: "n1", horizonSeconds: 60).cpu
                    - ewma.forecast(node: "n1", horizonSeconds: 60).cpu) < 0.02)

        Self.ramp(&forecaster, samples: 80, from: 20)
        let jobs = forecaster.refitWork(limit: 8)
        #expect(jobs.count == 1 && jobs[0].series[0].count == 99, "one node due, its samples so far")
        let results = jobs.map(ARIMAForecaster.refit)
        #expect(results[0].models[0] != nil, "a CPU model")
        #expect(results[0].models[1] == nil, "memory is constant: the mean forecasts it")
        Self.ramp(&forecaster, samples: 10, from: 100)  // samples arriving while the models were selected
        forecaster.install(results[0])

        let latest = 0.2 + 0.004 * 109
        let ahead = forecaster.forecast(node: "n1", horizonSeconds: 60).cpu
        #expect(ahead > latest, "the trend carries the forecast past the last sample (\(ahead) vs \(latest))")
        #expect(abs(forecaster.forecast(node: "n1", horizonSeconds: 60).memory - 0.5) < 1e-9)
        #expect(forecaster.refitWork(limit: 8).isEmpty, "not due again until refitEvery new samples")

        var conservative = forecaster
        conservative.configuration.conservative = true
        #expect(conservative.forecast(node: "n1", horizonSeconds: 60).cpu > ahead, "the 80% upper bound is higher")
    }

    @Test("each horizon gets the forecast averaged over it: a rising load is higher over ten minutes than over one")
    func forecastsPerHorizon() throws {
        var configuration = ARIMAForecaster.Configuration(sampleSeconds: 5)
        configuration.horizonsSeconds = [60, 600]
        var forecaster = ARIMAForecaster(configuration: configuration)
        #expect(forecaster.forecasts(node: "n1") == [.idle], "a node never seen: idle, for every horizon")
        Self.ramp(&forecaster, samples: 100)
        forecaster.install(ARIMAForecaster.refit(try #require(forecaster.refitWork(limit: 1).first)))
        let loads = forecaster.forecasts(node: "n1")
        #expect(loads.count == 2)
        #expect(loads[1].cpu > loads[0].cpu + 0.03, "10 min of a 0.048/min ramp: \(loads.map(\.cpu))")
        #expect(loads[0].cpu == forecaster.forecast(node: "n1", horizonSeconds: 60).cpu)
        #expect(abs(loads[1].memory - 0.5) < 1e-9)
        var conservative = forecaster
        conservative.configuration.conservative = true
        let upper = conservative.forecasts(node: "n1")
        #expect(upper[0].cpu > loads[0].cpu && upper[1].cpu > loads[1].cpu, "the 80% bound over each horizon")
        // a new sample moves the kept forecasts on
        Self.ramp(&forecaster, samples: 2, from: 100)
        #expect(forecaster.forecasts(node: "n1")[0].cpu > loads[0].cpu)
    }

    @Test func reportsWithinOneIntervalMakeOneSample() {
        var forecaster = ARIMAForecaster(configuration: .init(sampleSeconds: 5))
        for i in 0..<40 {
            // ten reports per interval (a busy node's doorbell heartbeats), each interval one level
            for j in 0..<10 {
                forecaster.observe(
                    node: "n", load: NodeLoad(cpu: Double(i % 7) / 10, memory: 0, io: 0),
                    at: Double(i) * 5 + Double(j) * 0.4)
            }
        }
        let jobs = forecaster.refitWork(limit: 8)
        #expect(jobs.first?.series[0].count == 39, "one sample per completed interval")
        #expect(jobs.first.map { Array($0.series[0].prefix(8)) } == [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0])
    }
}
