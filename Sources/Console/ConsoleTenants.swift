import CorralModel
import CorralProtocol
import Reports

/// Tenants' quota use now (the forecast comes from the capacity report).
enum ConsoleTenants {
    static func quota(_ quotas: [QuotaStatus]) -> String {
        let e = ConsoleHTML.e
        let rows = quotas.map { status -> ConsoleHTML.Row in
            let usage = status.usage
            let quota = status.quota
            func cell(_ used: Double, _ limit: Double?, _ text: (Double) -> String, _ name: String) -> String {
                guard let limit, limit > 0 else { return e(text(used)) + " <small>(no quota)</small>" }
                return ConsoleHTML.meter(used / limit, label: "\(name) of quota") + "<br><small>"
                    + e("\(text(used)) of \(text(limit))") + "</small>"
            }
            return ConsoleHTML.Row(
                "data-tenant=\"\(e(status.tenant))\"",
                [
                    "<b>\(e(status.tenant))</b>",
                    cell(usage.cpu, quota?.cpu, ReportText.cores, "CPU"),
                    cell(Double(usage.memory), quota?.memory.map { Double($0) }, ReportText.bytes, "memory"),
                    cell(
                        Double(usage.runningTasks), quota?.runningTasks.map { Double($0) }, { "\(Int($0)) tasks" },
                        "tasks") + reclaimable(status.reclaimable),
                ])
        }
        return ConsoleHTML.table(["tenant", "CPU", "memory", "running tasks"], rows, empty: "No tenant is configured.")
    }

    /// What the tenant's reclaimable tasks hold, counted apart from the quota's use above.
    static func reclaimable(_ usage: TenantUsage?) -> String {
        guard let usage, usage.runningTasks > 0 else { return "" }
        let text =
            "reclaimable apart: \(usage.runningTasks) tasks, \(ReportText.cores(usage.cpu)), "
            + ReportText.bytes(Double(usage.memory))
        return "<br><small class=\"reclaimable\">\(ConsoleHTML.e(text))</small>"
    }
}
