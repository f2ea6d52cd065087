import CorralModel
import CorralProtocol
import Reports

/// The nodes page: state, labels, reservations, load, breaker and drain, with drain/undrain (admin).
enum ConsoleNodes {
    static func table(_ data: ConsoleData) -> String {
        let e = ConsoleHTML.e
        let rows = data.nodes.map { node -> ConsoleHTML.Row in
            let labels = node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let cpu = fraction(node.reserved.cpuMillis, of: node.capacity.cpuMillis)
            let memory = fraction(node.reserved.memory, of: node.capacity.memory)
            let breaker = (node.breaker ?? "closed") + (node.breakerReason.map { ": \($0)" } ?? "")
            let path = "/v1/nodes/\(ConsoleHTML.query(node.id.rawValue))"
            let action =
                node.drain == nil
                ? ConsoleHTML.action(
                    "Drain", method: "POST", url: path + "/drain", body: "{\"deadlineSeconds\": 3600}",
                    confirm: "Drain \(node.id)? No new work goes there; tasks still there in 1 h are moved.")
                : ConsoleHTML.action("Undrain", method: "POST", url: path + "/undrain")
            return ConsoleHTML.Row(
                "data-node=\"\(e(node.id.rawValue))\"",
                [
                    "<b>\(e(node.id.rawValue))</b>", state(node), e(labels.isEmpty ? "–" : labels), "\(node.running)",
                    ConsoleHTML.meter(cpu, label: "CPU reserved"),
                    ConsoleHTML.meter(memory, label: "memory reserved") + reclaimable(node),
                    "\(e(ConsoleHTML.percent(node.usage.cpu))) / \(e(ConsoleHTML.percent(node.usage.memory))) / "
                        + e(ConsoleHTML.percent(node.usage.io)),
                    e(breaker), e(drainText(node)),
                    e(node.ready ? "current" : "last " + ConsoleHTML.time(node.lastSeen)), action,
                ])
        }
        return ConsoleHTML.table(
            [
                "node", "state", "labels", "tasks", "CPU reserved", "memory reserved", "load CPU / mem / I/O",
                "breaker",
                "drain", "heartbeat", "",
            ], rows, empty: "No node has registered.", classes: "nodes")
    }

    /// With reclamation on: the capacity forecast idle inside the reservations, and what reclaimable
    /// tasks hold beside them.
    static func reclaimable(_ node: NodeStatus) -> String {
        guard let idle = node.reclaimable else { return "" }
        let held = node.reclaimableReserved ?? .zero
        let text =
            "reclaimable \(ReportText.cores(Double(idle.cpuMillis) / 1000)), \(ReportText.bytes(Double(idle.memory)));"
            + " reclaimable tasks hold \(ReportText.cores(Double(held.cpuMillis) / 1000))"
        return "<br><small class=\"reclaimable\">\(ConsoleHTML.e(text))</small>"
    }

    static func state(_ node: NodeStatus) -> String {
        if !node.ready && node.drain == nil { return ConsoleHTML.badge("down", "bad") }
        if node.drained == true { return ConsoleHTML.badge("drained", "muted") }
        if node.drain != nil { return ConsoleHTML.badge("draining", "wait") }
        if node.breaker == "open" { return ConsoleHTML.badge("tripped", "bad") }
        return ConsoleHTML.badge("ready", "ok")
    }

    /// The drain in words; the deadline as a time, so the row does not change every second.
    static func drainText(_ node: NodeStatus) -> String {
        guard let drain = node.drain else { return "–" }
        if node.drained == true { return "drained" }
        guard let deadline = drain.deadline else { return "draining, no deadline" }
        return "draining, moves its tasks at \(ConsoleHTML.time(deadline))"
    }

    static func fraction(_ part: Int64, of whole: Int64) -> Double {
        whole > 0 ? Double(part) / Double(whole) : 0
    }
}
