/// A node's expected utilisation of each resource (fractions of capacity, usually 0...1) over the
/// horizon placement looks at: what a `LoadForecaster` predicts from the node's reports.
public struct NodeLoad: Sendable, Equatable, Codable {
    public var cpu: Double
    public var memory: Double
    public var io: Double

    public static let idle = NodeLoad(cpu: 0, memory: 0, io: 0)

    public init(cpu: Double, memory: Double, io: Double) {
        self.cpu = cpu
        self.memory = memory
        self.io = io
    }
}

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
