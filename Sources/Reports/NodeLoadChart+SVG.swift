import CorralProtocol

extension NodeLoadChart {
    /// One small SVG chart of resource `index` (cpu, memory, io): the samples up to `now`, then the forecast's
    /// mean with its 80% and 95% bands, in the capacity report's colours. Nil for an index out of range.
    public func svg(resource index: Int, now: Double, width: Double = 380, height: Double = 180) -> String? {
        guard resources.indices.contains(index) else { return nil }
        let resource = resources[index]
        let step = max(sampleSeconds, 1)
        let start = now - Double(max(resource.history.count - 1, 0)) * step
        let end = now + Double(max(resource.forecast.count, 1)) * step
        let title = "\(node.rawValue) · \(Self.label(resource.name))"
        var chart = SVGChart(
            title: title, yLabel: "% of capacity", xLabel: "", start: start, end: end, now: now, step: step,
            format: { ReportText.percent($0) }, width: width, height: height)
        chart.lines.append(
            .init(
                label: "used", color: "#1f77b4",
                points: resource.history.enumerated().map { (start + Double($0.offset) * step, $0.element) }))
        if !resource.forecast.isEmpty {
            let times = resource.forecast.indices.map { now + Double($0 + 1) * step }
            let steps = Array(zip(times, resource.forecast))
            chart.bands = [
                .init(
                    label: "95%", color: "#fde0c5",
                    points: steps.map { ($0, max($1.mean - $1.halfWidth95, 0), $1.mean + $1.halfWidth95) }),
                .init(
                    label: "80%", color: "#fbbf8a",
                    points: steps.map { ($0, max($1.mean - $1.halfWidth80, 0), $1.mean + $1.halfWidth80) }),
            ]
            chart.lines.append(
                .init(label: "forecast", color: "#d35400", dashed: true, points: steps.map { ($0, $1.mean) }))
        }
        chart.thresholds = [(1, "100%")]
        chart.cap = 1.5
        return chart.render()
    }

    static func label(_ name: String) -> String {
        switch name {
        case "cpu": "CPU"
        case "memory": "memory"
        case "io": "I/O"
        default: name
        }
    }
}
