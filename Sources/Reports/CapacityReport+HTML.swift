import Foundation

extension CapacityReport {
    /// One self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched; prints cleanly.
    public func html() -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Corral capacity report</title>
        <style>
        body { font: 14px/1.4 sans-serif; color: #222; margin: 24px auto; max-width: 1180px; padding: 0 12px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; margin-top: 28px; }
        h3 { font-size: 15px; margin-bottom: 4px; } .meta { color: #555; }
        table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
        th:first-child, td:first-child { text-align: left; } th { background: #f4f4f4; }
        li.critical b { color: #b71c1c; } li.warning b { color: #e65100; } li.info b { color: #1565c0; }
        .charts { display: flex; flex-wrap: wrap; gap: 8px; }
        svg.chart { border: 1px solid #ddd; font: 10px sans-serif; } svg .title { font-size: 12px; font-weight: bold; }
        svg .axis { font-size: 11px; fill: #333; }
        @media print { body { margin: 0; max-width: none; } svg.chart, table { break-inside: avoid; } }
        </style></head>
        <body>
        \(htmlBody())
        </body></html>

        """
    }

    /// The report's sections without the document around them (the console shows them in its own page).
    public func htmlBody() -> String {
        let e = SVGChart.escape
        let body = """
            <h1>Corral capacity report</h1>
            <p class="meta">Generated \(ReportText.date(generatedAt)) · history from \(ReportText.date(since)) · \
            horizon \(ReportText.duration(horizonSeconds)) · step \(ReportText.duration(stepSeconds)) · \
            \(nodes.count) nodes, \(tenants.count) tenants</p>
            <section id="findings"><h2>Findings</h2><ul>
            \(findings.map { "<li class=\"\($0.severity.rawValue)\"><b>\($0.severity.rawValue)</b> \(e($0.text))</li>" }.joined(separator: "\n"))
            </ul></section>
            <section id="cluster"><h2>Cluster</h2>
            \(scopeTable(cluster))
            <div class="charts">\(Resource.Kind.allCases.map { chart(cluster, $0) }.joined())</div></section>
            <section id="headroom"><h2>Headroom</h2>
            <table><tr><th>task shape</th><th>fit now</th><th>fit at forecast peak</th>\
            \(nodes.map { "<th>\(e($0.id)) now / peak</th>" }.joined())</tr>
            \(headroom.map { room in
                "<tr><td>\(e(ReportText.shape(room.cpu, room.memory)))</td><td>\(room.fitNow)</td><td>\(room.fitAtPeak)</td>"
                + nodes.map { node in
                    let fit = room.nodes.first { $0.node == node.id }
                    return "<td>\(fit.map { "\($0.fitNow) / \($0.fitAtPeak)" } ?? "not ready")</td>"
                }.joined() + "</tr>"
            }.joined(separator: "\n"))
            </table></section>
            <section id="stranded"><h2>Stranded capacity</h2>
            <p>Reserved but idle (mean reservation above mean use): \(ReportText.cores(stranded.reservedIdleCPU)), \
            \(ReportText.bytes(stranded.reservedIdleMemory)). Free CPU where no task's memory fits: \
            \(ReportText.cores(stranded.cpuWithoutMemory)); free memory where no task's CPU fits: \
            \(ReportText.bytes(stranded.memoryWithoutCPU)). Reclaimable (reserved, under 90%, above the forecast's \
            80% bound over the horizon): \(stranded.reclaimableCPU.map(ReportText.cores) ?? "no forecast"), \
            \(stranded.reclaimableMemory.map(ReportText.bytes) ?? "no forecast").</p>
            <table><tr><th>node</th><th>reserved idle CPU</th><th>reserved idle memory</th><th>CPU without memory</th>\
            <th>memory without CPU</th><th>reclaimable CPU</th><th>reclaimable memory</th></tr>
            \(stranded.nodes.map {
                "<tr><td>\(e($0.node))</td><td>\(ReportText.cores($0.reservedIdleCPU))</td><td>\(ReportText.bytes($0.reservedIdleMemory))</td>"
                + "<td>\(ReportText.cores($0.cpuWithoutMemory))</td><td>\(ReportText.bytes($0.memoryWithoutCPU))</td>"
                + "<td>\($0.reclaimableCPU.map(ReportText.cores) ?? "-")</td>"
                + "<td>\($0.reclaimableMemory.map(ReportText.bytes) ?? "-")</td></tr>"
            }.joined(separator: "\n"))
            </table></section>
            <section id="tenants"><h2>Tenants</h2>
            \(tenantTable())
            <div class="charts">\(tenantCharts())</div></section>
            <section id="rightsizing"><h2>Right-sizing</h2>
            \(rightSizingTable())</section>
            <section id="nodes"><h2>Nodes</h2>
            \(nodes.map { node in
                "<h3>\(e(node.id))\(node.ready ? "" : " (not ready)") · \(ReportText.cores(node.cpuCapacity)), "
                + "\(ReportText.bytes(node.memoryCapacity))</h3>\n\(scopeTable(node))\n<div class=\"charts\">"
                + Resource.Kind.allCases.map { chart(node, $0) }.joined() + "</div>"
            }.joined(separator: "\n"))
            </section>
            """
        return body.replacingOccurrences(of: "\n\n", with: "\n")
    }

    func scopeTable(_ scope: Scope) -> String {
        let rows = scope.resources.map { r in
            let cells = [
                ReportText.resource(r.kind), ReportText.percent(r.used?.p50), ReportText.percent(r.used?.p95),
                ReportText.percent(r.used?.max), ReportText.percent(r.reserved?.mean),
                r.forecast?.model ?? "not enough history", r.crosses80At.map(crossText) ?? "not within horizon",
                r.crosses100At.map(crossText) ?? "not within horizon",
            ]
            return "<tr>" + cells.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>"
        }
        return """
            <table><tr><th>resource</th><th>p50 used</th><th>p95 used</th><th>max used</th><th>mean reserved</th>\
            <th>forecast model</th><th>reaches 80%</th><th>reaches 100%</th></tr>
            \(rows.joined(separator: "\n"))</table>
            """
    }

    func crossText(_ time: Double) -> String { time <= generatedAt ? "now" : ReportText.date(time) }

    func chart(_ scope: Scope, _ kind: Resource.Kind) -> String {
        let resource = scope.resources[kind.index]
        var chart = SVGChart(
            title: "\(scope.id) · \(ReportText.resource(kind))", yLabel: "% of capacity", start: since,
            end: generatedAt + horizonSeconds, now: generatedAt, step: stepSeconds, format: { ReportText.percent($0) })
        chart.lines.append(.init(label: "used", color: "#1f77b4", points: resource.history.map { ($0.time, $0.used) }))
        if kind != .io {
            chart.lines.append(
                .init(
                    label: "reserved", color: "#7f7f7f", dashed: true,
                    points: resource.history.map { ($0.time, $0.reserved) }))
        }
        addForecast(resource.forecast, to: &chart)
        chart.thresholds = [(0.8, "80%"), (1, "100%")]
        chart.cap = 1.5
        return chart.render()
    }

    func addForecast(_ forecast: Forecast?, to chart: inout SVGChart) {
        guard let forecast else { return }
        chart.bands = [
            .init(label: "95%", color: "#fde0c5", points: forecast.points.map { ($0.time, $0.lo95, $0.hi95) }),
            .init(label: "80%", color: "#fbbf8a", points: forecast.points.map { ($0.time, $0.lo80, $0.hi80) }),
        ]
        chart.lines.append(
            .init(label: "forecast", color: "#d35400", dashed: true, points: forecast.points.map { ($0.time, $0.mean) })
        )
    }
}
