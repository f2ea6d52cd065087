import Foundation

extension ReplayBenchmark.Report {
    /// The sweep's trade-off as one SVG: p95 CPU pressure against task-hours run, a labelled point per
    /// (interval, ceiling), with requests alone and forecast scoring for reference. No scripts, nothing
    /// fetched.
    public func tradeOffSVG() -> String {
        var points: [Point] = [
            ("requests alone", requestsOnly.taskHours, requestsOnly.p95Pressure, "#7f7f7f"),
            ("forecast scoring", forecast.taskHours, forecast.p95Pressure, "#1f77b4"),
        ]
        points += sweep.map(Self.point)
        return Self.chart(points, title: "feasibility, honest stream", nodes: nodes, steps: steps)
    }

    /// The same for reclamation (requests alone for guaranteed tasks) over the sweep, on the stream with
    /// batch tasks and the background reserved at its peak, with requests alone for reference.
    public func reclamationTradeOffSVG() -> String {
        var points: [Point] = []
        if let plain = reservedBackground.first {
            points.append(("requests alone", plain.taskHours, plain.p95Pressure, "#7f7f7f"))
        }
        points += batchSweep.map(Self.point)
        return Self.chart(
            points, title: "reclamation, batch tasks on a reserved background", nodes: nodes, steps: steps)
    }

    typealias Point = (label: String, hours: Double, p95: Double, colour: String)

    static func point(_ outcome: ReplayBenchmark.Outcome) -> Point {
        let label = "\(Int(outcome.interval ?? 0))% / \(String(format: "%g", outcome.ceiling ?? 0))"
        let colour = outcome.interval == 95 ? "#d35400" : outcome.interval == 50 ? "#9467bd" : "#2ca02c"
        return (label, outcome.taskHours, outcome.p95Pressure, colour)
    }

    static func chart(_ points: [Point], title: String, nodes: Int, steps: Int) -> String {
        let (width, height) = (760.0, 460.0)
        let (left, right, top, bottom) = (70.0, 150.0, 40.0, 50.0)
        let hours = points.map(\.hours)
        let pressures = points.map(\.p95)
        let (h0, h1) = ((hours.min() ?? 0) * 0.98, (hours.max() ?? 1) * 1.02)
        let (p0, p1) = ((pressures.min() ?? 0) - 0.01, (pressures.max() ?? 1) + 0.01)
        func x(_ v: Double) -> Double { left + (v - h0) / max(h1 - h0, 1e-9) * (width - left - right) }
        func y(_ v: Double) -> Double { height - bottom - (v - p0) / max(p1 - p0, 1e-9) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(f(left))" y="20" font-size="13" font-weight="bold">corral bench replay --sweep: \
            \(title): p95 CPU pressure against task-hours (\(nodes) nodes, \(steps) steps)</text>
            <line x1="\(f(left))" y1="\(f(height - bottom))" x2="\(f(width - right))" y2="\(f(height - bottom))" stroke="#555"/>
            <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(height - bottom))" stroke="#555"/>
            <text x="\(f((left + width - right) / 2))" y="\(f(height - 12))" text-anchor="middle">task-hours run</text>
            <text transform="translate(18 \(f((top + height - bottom) / 2))) rotate(-90)" text-anchor="middle">\
            p95 CPU pressure</text>

            """
        for i in 0...4 {
            let hv = h0 + (h1 - h0) * Double(i) / 4
            let pv = p0 + (p1 - p0) * Double(i) / 4
            svg += """
                <text x="\(f(x(hv)))" y="\(f(height - bottom + 16))" text-anchor="middle">\(Int(hv.rounded()))</text>
                <text x="\(f(left - 6))" y="\(f(y(pv) + 4))" text-anchor="end">\(String(format: "%.3f", pv))</text>
                <line x1="\(f(left))" y1="\(f(y(pv)))" x2="\(f(width - right))" y2="\(f(y(pv)))" stroke="#eee"/>

                """
        }
        if p0 < 1, p1 > 1 {
            svg += """
                <line x1="\(f(left))" y1="\(f(y(1)))" x2="\(f(width - right))" y2="\(f(y(1)))" stroke="#c0392b" \
                stroke-dasharray="3 3"/>
                <text x="\(f(width - right + 4))" y="\(f(y(1) + 4))" fill="#c0392b">pressure 1.0</text>

                """
        }
        for point in points {
            svg += """
                <circle cx="\(f(x(point.hours)))" cy="\(f(y(point.p95)))" r="4" fill="\(point.colour)"/>
                <text x="\(f(x(point.hours) + 6))" y="\(f(y(point.p95) - 5))" fill="\(point.colour)">\(point.label)</text>

                """
        }
        return svg + "</svg>\n"
    }
}
