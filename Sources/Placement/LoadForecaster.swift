import CorralModel

/// Predicts each node's load from its usage samples. The scheduler asks it on every report: the
/// Scheduler's ARIMA forecaster, with `EWMAForecaster` as its fallback while a node has little history.
public protocol LoadForecaster: Sendable {
    /// Folds one observed utilisation sample of `node`, taken at `time` (seconds), in.
    mutating func observe(node: String, load: NodeLoad, at time: Double)
    /// The expected load of `node` over the next `horizon` seconds; `.idle` for a node never seen.
    func forecast(node: String, horizonSeconds: Double) -> NodeLoad
    mutating func forget(node: String)
}

/// Exponentially weighted mean of the samples: the stand-in forecaster, flat over any horizon.
public struct EWMAForecaster: LoadForecaster {
    /// Weight of the newest sample, 0 < alpha <= 1.
    public var alpha: Double
    private var means: [String: NodeLoad] = [:]

    public init(alpha: Double = 0.3) { self.alpha = min(max(alpha, 0.001), 1) }

    public mutating func observe(node: String, load: NodeLoad, at time: Double) {
        guard let old = means[node] else {
            means[node] = load
            return
        }
        means[node] = NodeLoad(
            cpu: old.cpu + alpha * (load.cpu - old.cpu), memory: old.memory + alpha * (load.memory - old.memory),
            io: old.io + alpha * (load.io - old.io))
    }

    public func forecast(node: String, horizonSeconds: Double) -> NodeLoad { means[node] ?? .idle }

    public mutating func forget(node: String) { means[node] = nil }
}
