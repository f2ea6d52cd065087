import CorralModel
import CorralProtocol
import Forecast

extension ARIMAForecaster {
    /// A node's last `history` samples and, per resource with a fitted model, its path `steps` ahead with
    /// the 80% and 95% half-widths (placement's models, as they stand). Nil for a node never seen.
    public func chart(node: NodeID, history: Int = 60, steps: Int = 24) -> NodeLoadChart? {
        guard let series = nodes[node.rawValue] else { return nil }
        let recent = series.samples.suffix(max(0, history))
        let names = ["cpu", "memory", "io"]
        let resources = (0..<3).map { k -> NodeLoadChart.Resource in
            let values = recent.map { Self.values($0)[k] }
            var path: [NodeLoadChart.Step] = []
            let widths = series.widths[k]
            if let model = series.models[k], !widths.isEmpty, steps > 0 {
                path = model.forecastMeans(steps).enumerated().map { step, mean in
                    let width80 = widths[min(step, widths.count - 1)]
                    return NodeLoadChart.Step(
                        mean: mean.isFinite ? mean : 0, halfWidth80: width80.isFinite ? width80 : 0,
                        halfWidth95: width80.isFinite ? width80 * ARIMA.z95 / ARIMA.z80 : 0)
                }
            }
            return NodeLoadChart.Resource(name: names[k], history: values, forecast: path)
        }
        return NodeLoadChart(node: node, sampleSeconds: configuration.sampleSeconds, resources: resources)
    }
}
