extension CapacityReport {
    func tenantTable() -> String {
        let rows = tenants.flatMap { tenant in
            tenant.resources.map { r in
                let cells = [
                    tenant.tenant, ReportText.tenantResource(r.kind),
                    r.quota.map { ReportText.tenantValue(r.kind, $0) } ?? "none",
                    ReportText.tenantValue(r.kind, r.current), ReportText.tenantValue(r.kind, r.peak),
                    r.forecast.map { ReportText.tenantValue(r.kind, $0.peak) } ?? "–",
                    r.quota == nil ? "no quota" : r.exhaustedAt.map(crossText) ?? "not within horizon",
                ]
                return "<tr>" + cells.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>"
            }
        }
        return """
            <table><tr><th>tenant</th><th>resource</th><th>quota</th><th>now</th><th>peak</th>\
            <th>forecast peak</th><th>quota reached</th></tr>
            \(rows.joined(separator: "\n"))</table>
            """
    }

    /// A chart per tenant and quota'd resource: what it held, the forecast, and the quota line.
    func tenantCharts() -> String {
        tenants.flatMap { tenant in
            tenant.resources.compactMap { r -> String? in
                guard let quota = r.quota else { return nil }
                var chart = SVGChart(
                    title: "\(tenant.tenant) · \(ReportText.tenantResource(r.kind)) held",
                    yLabel: r.kind == .cpu ? "cores" : r.kind == .memory ? "bytes" : "tasks", start: since,
                    end: generatedAt + horizonSeconds, now: generatedAt, step: stepSeconds,
                    format: { ReportText.tenantValue(r.kind, $0) })
                chart.lines.append(.init(label: "held", color: "#2ca02c", points: r.history.map { ($0.time, $0.used) }))
                addForecast(r.forecast, to: &chart)
                chart.thresholds = [(quota, "quota")]
                chart.cap = quota * 1.5
                return chart.render()
            }
        }.joined()
    }

    func rightSizingTable() -> String {
        guard !rightSizing.isEmpty else { return "<p>No job has usage samples in this period.</p>" }
        let rows = rightSizing.prefix(50).map { h in
            let cells = [
                "\(h.name) (\(h.job))", h.tenant, ReportText.cores(h.requestedCPU), ReportText.cores(h.p95CPU),
                h.suggestedCPU.map(ReportText.cores) ?? "keep", ReportText.bytes(h.requestedMemory),
                ReportText.bytes(h.p95Memory), h.suggestedMemory.map(ReportText.bytes) ?? "keep", "\(h.minutes)",
            ]
            return "<tr>" + cells.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>"
        }
        return """
            <table><tr><th>job</th><th>tenant</th><th>CPU requested</th><th>CPU p95</th><th>suggest</th>\
            <th>memory requested</th><th>memory p95</th><th>suggest</th><th>minutes</th></tr>
            \(rows.joined(separator: "\n"))</table>
            """
    }
}

extension CapacityReport {
    /// The tenants section (table and charts) for `tenant` alone, or for every tenant when nil.
    public func tenantsHTML(only tenant: String?) -> String {
        var report = self
        if let tenant { report.tenants = tenants.filter { $0.tenant == tenant } }
        guard !report.tenants.isEmpty else { return "<p>No usage history for this tenant yet.</p>" }
        return report.tenantTable() + "\n<div class=\"charts\">\(report.tenantCharts())</div>"
    }
}
