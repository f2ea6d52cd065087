import CorralModel
import Forecast
import Placement

/// Forecasts each node's CPU, memory and I/O utilisation with an ARIMA model per node and resource.
/// Reports are folded into one sample per `sampleSeconds` (the last report of each interval); every
/// new sample moves each model on by one Kalman step, and order selection (auto-ARIMA over the last
/// `window` samples) runs off the scheduler's actor on a schedule (`refitWork` / `refit` / `install`).
/// Until a node has `minimumSamples` samples and a model, the exponentially weighted mean stands in.
/// Forecasts are averaged over each of the configured horizons (placement scores a task by the one
/// covering its expected duration): a new sample moves only the means on, the 80% interval widths are
/// worked out with the model, off the actor.
public struct ARIMAForecaster: LoadForecaster {
    public struct Configuration: Sendable, Equatable {
        public var sampleSeconds: Double = 5
        public var minimumSamples = 30
        public var window = 300
        /// Samples after which a node's models are selected again.
        public var refitEvery = 60
        /// Score the upper bound of the 80% interval instead of the mean.
        public var conservative = false
        /// The horizons placement asks for (seconds, ascending); models' forecasts over each are kept
        /// between samples.
        public var horizonsSeconds = [60.0]
        /// Samples per season (1: none). A daily cycle of 5-minute samples (288) is taken out by an STL
        /// decomposition before the ARIMA fit; `window` must then hold at least two cycles.
        public var seasonPeriod = 1
        /// Samples in a row outside the one-step 95% interval that make a load anomaly (`IntervalAnomaly`).
        public var anomalySamples = 3

        public init(sampleSeconds: Double = 5, conservative: Bool = false) {
            self.sampleSeconds = sampleSeconds
            self.conservative = conservative
        }
    }

    /// A node's series to select models for, taken at `total` samples.
    public struct RefitJob: Sendable {
        public var node: String
        public var series: [[Double]]
        public var total: Int
        public var period = 1
        /// Steps out to the longest horizon: how far the models' interval widths are worked out.
        public var steps = 1
    }

    public struct RefitResult: Sendable {
        public var node: String
        public var models: [ARIMAFit?]
        /// Each model's 80% interval half-width at each step out to the longest horizon.
        public var widths: [[Double]] = [[], [], []]
        public var total: Int
    }

    struct NodeSeries {
        var samples: [NodeLoad] = []
        /// Samples ever taken (the ring keeps `window`).
        var total = 0
        var bucket: Double = -.infinity
        var pending: NodeLoad?
        var models: [ARIMAFit?] = [nil, nil, nil]
        var fittedAt = 0
        /// Each model's 80% interval half-width at each step out to the longest horizon, from its fit.
        var widths: [[Double]] = [[], [], []]
        /// Each model's forecast over each horizon ([horizon][resource]), worked out when a sample or model
        /// arrives rather than on every report (reports can come many times a sample interval), and
        /// whether it is the conservative one.
        var cached: [[Double?]] = []
        var cachedConservative = false
        /// Each resource's judge of new samples against the forecast made before them.
        var detectors: [IntervalAnomaly] = []
        /// Each resource's forecast path (mean, 95% half-width per step) from its last sample inside its
        /// interval: while samples stay outside, each is judged against this path, not against a forecast
        /// that has already followed the excursion (an integrated model takes a level shift in one step).
        var paths: [[(mean: Double, width: Double)]] = [[], [], []]
        /// The models anomalies are judged by: the same fits as `models`, but while a run of samples lasts
        /// outside the interval they take each clipped to the interval (robust filtering), so that an excursion
        /// bends neither the path it is judged against nor, once over, the forecasts its recovery is judged
        /// by. Placement's `models` take every sample as it is.
        var judges: [ARIMAFit?] = [nil, nil, nil]
    }

    public var configuration: Configuration
    var fallback = EWMAForecaster()
    var nodes: [String: NodeSeries] = [:]

    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    public mutating func observe(node: String, load: NodeLoad, at time: Double) {
        fallback.observe(node: node, load: load, at: time)
        var series = nodes[node] ?? NodeSeries()
        let bucket = (time / configuration.sampleSeconds).rounded(.down)
        if bucket > series.bucket, let sample = series.pending {
            append(sample, to: &series)
        }
        series.bucket = max(series.bucket, bucket)
        series.pending = load
        nodes[node] = series
    }

    mutating func append(_ sample: NodeLoad, to series: inout NodeSeries) {
        let fed = judge(sample, in: &series)
        series.samples.append(sample)
        if series.samples.count > configuration.window {
            series.samples.removeFirst(series.samples.count - configuration.window)
        }
        series.total += 1
        let values = Self.values(sample)
        for k in 0..<3 {
            series.models[k] = series.models[k]?.appending(values[k])
            series.judges[k] = series.judges[k]?.appending(fed[k])
        }
        cache(&series)
    }

    /// Steps of the forecast path kept for judging a run of samples outside the interval.
    static let pathSteps = 24

    /// Judges a new sample against each resource's forecast and 95% interval, before the models see it:
    /// the one-step forecast after a normal sample, the path from the last normal sample during a run
    /// outside. A resource whose last fit found it constant is judged against that constant.
    /// Judges a new sample against each resource's forecast and 95% interval, before the models see it:
    /// the one-step forecast after a sample inside; during a run outside, the path made before the run.
    /// A run as long as the path is a new level: the judging model takes placement's (which followed
    /// it), and the alert resolves if the level holds steady. A resource whose last fit found it constant
    /// is judged against that constant. Returns what each judging model takes: the sample, or during a
    /// run the sample clipped to the interval.
    func judge(_ sample: NodeLoad, in series: inout NodeSeries) -> [Double] {
        let values = Self.values(sample)
        guard series.fittedAt > 0 else { return values }
        if series.detectors.count != 3 {
            series.detectors = Array(repeating: IntervalAnomaly(required: configuration.anomalySamples), count: 3)
        }
        var fed = values
        for k in 0..<3 {
            let run = series.detectors[k].outside
            let newLevel = run > 0 && run % Self.pathSteps == 0
            if newLevel { series.judges[k] = series.models[k] }
            if run == 0 || series.paths[k].isEmpty || newLevel {
                series.paths[k] = path(series, resource: k)
            }
            let path = series.paths[k]
            guard !path.isEmpty else { continue }
            let step = min(run % Self.pathSteps, path.count - 1)
            series.detectors[k].observe(values[k], mean: path[step].mean, halfWidth: path[step].width)
            // Outside: the judging model takes the sample clipped to the interval's edge (bounded influence,
            // as robust filters do), and during an anomaly (a run as long as the rule's) the path's mean,
            // so that it follows neither the excursion nor, after it, its own recovery.
            let outside = series.detectors[k].outside
            if outside >= configuration.anomalySamples {
                fed[k] = path[step].mean
            } else if outside > 0, let last = series.detectors[k].last {
                fed[k] = min(max(values[k], last.low), last.high)
            }
        }
        return fed
    }

    /// A resource's forecast path from now: each step's mean and 95% half-width.
    func path(_ series: NodeSeries, resource k: Int) -> [(mean: Double, width: Double)] {
        if let model = series.judges[k] ?? series.models[k] {
            let widths = series.widths[k]
            guard !widths.isEmpty else { return [] }
            return model.forecastMeans(Self.pathSteps).enumerated().map { step, mean in
                (mean, widths[min(step, widths.count - 1)] * ARIMA.z95 / ARIMA.z80)
            }
        }
        guard let previous = series.samples.last else { return [] }
        return [(Self.values(previous)[k], 0)]
    }

    /// Each resource's anomaly judge for a node (cpu, memory, io), once its models were first selected.
    public func anomalies(node: String) -> [IntervalAnomaly] { nodes[node]?.detectors ?? [] }

    func cache(_ series: inout NodeSeries) {
        series.cached = modelForecasts(series.models, series.widths, configuration.horizonsSeconds)
        series.cachedConservative = configuration.conservative
    }

    /// The kept forecasts when they are for the configuration as it is now.
    func kept(_ series: NodeSeries) -> [[Double?]]? {
        guard series.cachedConservative == configuration.conservative,
            series.cached.count == configuration.horizonsSeconds.count
        else { return nil }
        return series.cached
    }

    func steps(_ horizonSeconds: Double) -> Int {
        max(1, Int((horizonSeconds / configuration.sampleSeconds).rounded(.up)))
    }

    /// Each model's forecast averaged over each horizon ([horizon][resource]): the mean, or with
    /// `conservative` the mean plus the 80% half-width at each step (`widths`, per resource).
    func modelForecasts(_ models: [ARIMAFit?], _ widths: [[Double]], _ horizons: [Double]) -> [[Double?]] {
        let counts = horizons.map(steps)
        let longest = counts.max() ?? 1
        let sums = models.enumerated().map { k, model -> [Double]? in
            guard let model else { return nil }
            var values = model.forecastMeans(longest)
            if configuration.conservative {
                for i in values.indices { values[i] += i < widths[k].count ? widths[k][i] : widths[k].last ?? 0 }
            }
            var prefix = [0.0]
            for value in values { prefix.append(prefix.last! + value) }
            return prefix
        }
        return counts.map { count in
            sums.map { prefix in
                guard let prefix else { return nil }
                let mean = prefix[count] / Double(count)
                return mean.isFinite ? min(max(mean, 0), 2) : nil
            }
        }
    }

    /// Which of `horizons` (seconds, ascending) scores a task expected to run `seconds`: the first that
    /// covers it, the last when it runs longer, the first when it is not said.
    public static func horizon(forExpectedDuration seconds: Double?, in horizons: [Double]) -> Int {
        guard let seconds else { return 0 }
        return horizons.firstIndex { $0 >= seconds } ?? max(horizons.count - 1, 0)
    }

    static func values(_ load: NodeLoad) -> [Double] { [load.cpu, load.memory, load.io] }

    public func forecast(node: String, horizonSeconds: Double) -> NodeLoad {
        let fallbackLoad = fallback.forecast(node: node, horizonSeconds: horizonSeconds)
        guard let series = nodes[node], series.samples.count >= configuration.minimumSamples else {
            return fallbackLoad
        }
        let forecasts =
            configuration.horizonsSeconds.firstIndex(of: horizonSeconds).flatMap { kept(series)?[$0] }
            ?? modelForecasts(series.models, series.widths, [horizonSeconds])[0]
        return Self.load(forecasts, or: fallbackLoad)
    }

    /// The node's load over each configured horizon (`horizonsSeconds`), from the kept forecasts.
    public func forecasts(node: String) -> [NodeLoad] {
        let fallbackLoad = fallback.forecast(node: node, horizonSeconds: 0)
        guard let series = nodes[node], series.samples.count >= configuration.minimumSamples else {
            return [fallbackLoad]
        }
        let forecasts = kept(series) ?? modelForecasts(series.models, series.widths, configuration.horizonsSeconds)
        return forecasts.map { Self.load($0, or: fallbackLoad) }
    }

    static func load(_ forecasts: [Double?], or fallback: NodeLoad) -> NodeLoad {
        var result = values(fallback)
        for k in 0..<3 { if let value = forecasts[k] { result[k] = value } }
        return NodeLoad(cpu: result[0], memory: result[1], io: result[2])
    }

    public mutating func forget(node: String) {
        fallback.forget(node: node)
        nodes[node] = nil
    }

    /// Nodes whose models are due (enough samples, none yet or `refitEvery` new ones), at most `limit`.
    public func refitWork(limit: Int) -> [RefitJob] {
        var jobs: [RefitJob] = []
        for (node, series) in nodes.sorted(by: { $0.key < $1.key }) where jobs.count < limit {
            guard series.samples.count >= configuration.minimumSamples else { continue }
            let due = series.fittedAt == 0 || series.total - series.fittedAt >= configuration.refitEvery
            guard due else { continue }
            let columns = (0..<3).map { k in series.samples.map { Self.values($0)[k] } }
            jobs.append(
                RefitJob(
                    node: node, series: columns, total: series.total, period: configuration.seasonPeriod,
                    steps: configuration.horizonsSeconds.map(steps).max() ?? 1))
        }
        return jobs
    }

    /// Order selection for one node's resources: pure computation, run it off the actor.
    public static func refit(_ job: RefitJob) -> RefitResult {
        let models = job.series.map { column -> ARIMAFit? in
            guard column.contains(where: { $0 != column[0] }) else { return nil }  // constant: the mean does
            return try? AutoARIMA().fit(column, period: job.period)
        }
        // The widths cost a covariance product per step: here, not on the scheduler's actor at install.
        let widths = models.map { model in model.map { $0.forecast(job.steps).map { $0.hi80 - $0.mean } } ?? [] }
        return RefitResult(node: job.node, models: models, widths: widths, total: job.total)
    }

    /// Installs new models, moved on by the samples that arrived since their series was taken.
    public mutating func install(_ result: RefitResult) {
        guard var series = nodes[result.node] else { return }
        let missed = min(series.total - result.total, series.samples.count)
        var models = result.models
        for sample in series.samples.suffix(max(missed, 0)) {
            let values = Self.values(sample)
            for k in 0..<3 { models[k] = models[k]?.appending(values[k]) }
        }
        series.models = models
        series.judges = models
        series.fittedAt = result.total
        series.widths = result.widths
        cache(&series)
        nodes[result.node] = series
    }
}
