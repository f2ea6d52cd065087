import CorralModel
import CorralProtocol
import Reports

/// The overview: counts, alerts, and each node's load with its forecast.
enum ConsoleOverview {
    static func summary(_ data: ConsoleData, viewer: ConsoleViewer) -> String {
        var tiles: [(String, String, String)] = []
        if viewer.isAdmin {
            let ready = data.nodes.filter(\.ready).count
            tiles.append(("nodes-ready", "nodes ready", "\(ready) / \(data.nodes.count)"))
        }
        let counts = data.taskCounts
        tiles += [
            ("queued", "tasks queued", "\(data.queued)"),
            ("running", "tasks running", "\((counts[.running] ?? 0) + (counts[.scheduled] ?? 0))"),
            ("completed", "tasks completed", "\(counts[.completed] ?? 0)"),
            ("failed", "tasks failed or lost", "\((counts[.failed] ?? 0) + (counts[.lost] ?? 0))"),
        ]
        if viewer.isAdmin {
            tiles.append(("dead-letters", "dead letters", "\(data.deadLetters)"))
            tiles.append(("alerts-firing", "alerts firing", "\(data.alerts.count)"))
        }
        return "<div class=\"tiles\">"
            + tiles.map { id, label, value in
                "<div class=\"tile\" data-count=\"\(id)\"><b>\(ConsoleHTML.e(value))</b><span>\(label)</span></div>"
            }.joined() + "</div>"
    }

    static func alerts(_ alerts: [AlertNotification]) -> String {
        let e = ConsoleHTML.e
        let rows = alerts.prefix(200).map { alert -> ConsoleHTML.Row in
            ConsoleHTML.Row(
                "",
                [
                    ConsoleHTML.badge(alert.kind, "bad"), e(alert.rule), e(alert.subject), e(alert.summary),
                    e(ConsoleHTML.time(alert.startsAt)),
                ])
        }
        return ConsoleHTML.table(
            ["kind", "rule", "subject", "summary", "since"], rows, empty: "No alert is firing.")
    }

    /// A card per node: its state, load now, and a chart per resource (history, forecast, 80/95% bands).
    static func nodeCards(_ data: ConsoleData) -> String {
        guard !data.nodes.isEmpty else { return "<p class=\"empty\">No node has registered.</p>" }
        let charts = Dictionary(data.charts.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        return data.nodes.map { node in
            let e = ConsoleHTML.e
            let svgs =
                charts[node.id].map { chart in
                    (0..<3).compactMap { chart.svg(resource: $0, now: data.now) }.joined()
                } ?? "<p class=\"empty\">No samples yet.</p>"
            let load = node.usage
            return """
                <section class="node-card" data-node="\(e(node.id.rawValue))">
                <h3>\(e(node.id.rawValue)) \(ConsoleNodes.state(node))</h3>
                <p class="now">now: CPU \(e(ConsoleHTML.percent(load.cpu))) · memory \(e(ConsoleHTML.percent(load.memory))) \
                · I/O \(e(ConsoleHTML.percent(load.io))) · \(node.running) running</p>
                <div class="charts">\(svgs)</div>
                </section>
                """
        }.joined(separator: "\n")
    }
}
