import CorralModel
import Forecast

/// Upper bounds of the forecasts' intervals: what forecast-aware feasibility and the capacity alert check.
extension ARIMAForecaster {
    /// The upper bound of the `interval`% (80 or 95; 50 is the mean) forecast interval of the load over the
    /// near term (the first horizon), as forecast-aware feasibility and reclamation check it: the mean over
    /// the horizon plus the interval's half-width averaged over its steps (the load over the horizon, not
    /// its last step's extreme). The mean (with no width) while the node has no model. Only the first
    /// horizon is worked out: this runs at every heartbeat.
    public func nearTermBound(node: String, interval: Double) -> NodeLoad {
        let z = interval == 95 ? ARIMA.z95 : interval == 50 ? 0 : ARIMA.z80
        return upperBounds(node: node, z: z, averaged: true, horizons: 1)?.first
            ?? forecasts(node: node).first ?? .idle
    }

    /// Whether the node has reported a load at all (before that its forecast is idle by default, and says
    /// nothing about what it can spare).
    public func hasForecast(node: String) -> Bool { nodes[node] != nil }

    /// The highest 95% upper bound of a node's forecast over each horizon ([horizon] of cpu, memory, io):
    /// the mean over the horizon plus the 95% half-width at its last step. Nil while it has no model.
    public func upperBounds95(node: String) -> [NodeLoad]? { upperBounds(node: node, z: ARIMA.z95, averaged: false) }

    /// The mean over each horizon (the first `horizons` of them) plus the half-width of the interval whose z
    /// is `z`: at the horizon's last step, or `averaged` over its steps.
    func upperBounds(node: String, z: Double, averaged: Bool, horizons: Int = .max) -> [NodeLoad]? {
        guard let series = nodes[node], series.fittedAt > 0 else { return nil }
        let means = kept(series) ?? modelForecasts(series.models, series.widths, configuration.horizonsSeconds)
        return zip(configuration.horizonsSeconds.prefix(horizons), means).map { horizon, mean in
            let count = steps(horizon)
            let bounds = (0..<3).map { k -> Double in
                guard let value = mean[k] else { return 0 }
                let widths = series.widths[k]
                var width80 = 0.0
                if !widths.isEmpty {
                    width80 =
                        averaged
                        ? (0..<count).reduce(0) { $0 + widths[min($1, widths.count - 1)] } / Double(count)
                        : widths[min(count - 1, widths.count - 1)]
                }
                // The conservative forecast already carries the 80% half-width.
                return value + width80 * (z / ARIMA.z80 - (configuration.conservative ? 1 : 0))
            }
            return NodeLoad(cpu: bounds[0], memory: bounds[1], io: bounds[2])
        }
    }
}
