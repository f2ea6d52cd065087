import Foundation

/// One inline SVG line chart: history lines, the forecast's mean and its 80%/95% bands, threshold
/// lines and a "now" marker, with labelled axes. No scripts, no external references.
struct SVGChart {
    struct Line {
        var label: String
        var color: String
        var dashed = false
        var points: [(time: Double, value: Double?)]
    }

    struct Band {
        var label: String
        var color: String
        var points: [(time: Double, lo: Double, hi: Double)]
    }

    var title: String
    var yLabel: String
    var xLabel = "time (UTC)"
    var start: Double
    var end: Double
    var now: Double
    var step: Double
    var lines: [Line] = []
    var bands: [Band] = []
    var thresholds: [(value: Double, label: String)] = []
    /// The y axis stops here even if a forecast band goes higher (bands are clipped at the top).
    var cap: Double = .infinity
    /// Writes a y value as its tick label.
    var format: (Double) -> String
    var width = 560.0
    var height = 230.0

    static let margin = (left: 62.0, right: 14.0, top: 34.0, bottom: 42.0)

    /// The top of the y axis and its tick spacing: a round number at or above every value drawn, in
    /// four or five steps of 1, 2, 2.5 or 5 times a power of ten.
    var yAxis: (top: Double, tick: Double) {
        let values =
            lines.flatMap { $0.points.compactMap(\.value) } + bands.flatMap { $0.points.map(\.hi) }
            + thresholds.map(\.value)
        let highest = min(values.filter(\.isFinite).max() ?? 1, cap)
        guard highest > 0 else { return (1, 0.25) }
        let magnitude = pow(10, (log10(highest / 4)).rounded(.down))
        let tick = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 * 5 >= highest } ?? 10 * magnitude
        return ((highest / tick).rounded(.up) * tick, tick)
    }

    func render() -> String {
        let m = Self.margin
        let (plotW, plotH) = (width - m.left - m.right, height - m.top - m.bottom)
        let (top, tick) = yAxis
        func x(_ t: Double) -> Double { m.left + (t - start) / max(end - start, 1) * plotW }
        func y(_ v: Double) -> Double { m.top + plotH - min(v, top) / top * plotH }
        func num(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
            <svg class="chart" xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(Self.escape(title))">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
            <text x="\(num(m.left))" y="16" class="title">\(Self.escape(title))</text>

            """
        // Grid and y axis.
        for i in 0...Int((top / tick).rounded()) {
            let v = tick * Double(i)
            svg += """
                <line x1="\(num(m.left))" x2="\(num(m.left + plotW))" y1="\(num(y(v)))" y2="\(num(y(v)))" stroke="#e3e3e3"/>
                <text x="\(num(m.left - 6))" y="\(num(y(v) + 4))" text-anchor="end">\(Self.escape(format(v)))</text>

                """
        }
        // X axis ticks.
        for i in 0...4 {
            let t = start + (end - start) * Double(i) / 4
            let anchor = i == 0 ? "start" : i == 4 ? "end" : "middle"
            svg += """
                <line x1="\(num(x(t)))" x2="\(num(x(t)))" y1="\(num(m.top + plotH))" y2="\(num(m.top + plotH + 4))" stroke="#555"/>
                <text x="\(num(x(t)))" y="\(num(m.top + plotH + 16))" text-anchor="\(anchor)">\(ReportText.clock(t, step: step))</text>

                """
        }
        svg += """
            <line x1="\(num(m.left))" x2="\(num(m.left + plotW))" y1="\(num(m.top + plotH))" y2="\(num(m.top + plotH))" stroke="#555"/>
            <line x1="\(num(m.left))" x2="\(num(m.left))" y1="\(num(m.top))" y2="\(num(m.top + plotH))" stroke="#555"/>
            <text x="\(num(m.left + plotW / 2))" y="\(num(height - 6))" text-anchor="middle" class="axis">\(Self.escape(xLabel))</text>
            <text transform="translate(14 \(num(m.top + plotH / 2))) rotate(-90)" text-anchor="middle" class="axis">\(Self.escape(yLabel))</text>

            """
        for band in bands where !band.points.isEmpty {
            let upper = band.points.map { "\(num(x($0.time))),\(num(y($0.hi)))" }
            let lower = band.points.reversed().map { "\(num(x($0.time))),\(num(y($0.lo)))" }
            svg +=
                "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(band.color)\" stroke=\"none\"/>\n"
        }
        for threshold in thresholds where threshold.value <= top {
            svg += """
                <line x1="\(num(m.left))" x2="\(num(m.left + plotW))" y1="\(num(y(threshold.value)))" \
                y2="\(num(y(threshold.value)))" stroke="#c0392b" stroke-dasharray="2 3"/>
                <text x="\(num(m.left + 3))" y="\(num(y(threshold.value) - 3))" fill="#c0392b">\(Self.escape(threshold.label))</text>

                """
        }
        if now > start, now < end {
            svg += """
                <line x1="\(num(x(now)))" x2="\(num(x(now)))" y1="\(num(m.top))" y2="\(num(m.top + plotH))" stroke="#888" stroke-dasharray="4 2"/>
                <text x="\(num(x(now) + 3))" y="\(num(m.top + 10))" fill="#666">now</text>

                """
        }
        for line in lines {
            var path = ""
            var pen = false
            for point in line.points {
                guard let value = point.value, value.isFinite else {
                    pen = false
                    continue
                }
                path += "\(pen ? "L" : "M")\(num(x(point.time))) \(num(y(value))) "
                pen = true
            }
            guard !path.isEmpty else { continue }
            let dash = line.dashed ? " stroke-dasharray=\"5 3\"" : ""
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.6\"\(dash)/>\n"
        }
        // Legend, right-aligned above the plot.
        var legendX = width - m.right
        for (label, color) in (lines.map { ($0.label, $0.color) } + bands.map { ($0.label, $0.color) }).reversed() {
            let w = Double(label.count) * 6 + 18
            legendX -= w
            svg += """
                <rect x="\(num(legendX))" y="\(num(m.top - 14))" width="10" height="8" fill="\(color)"/>
                <text x="\(num(legendX + 13))" y="\(num(m.top - 6))">\(Self.escape(label))</text>

                """
        }
        return svg + "</svg>"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
