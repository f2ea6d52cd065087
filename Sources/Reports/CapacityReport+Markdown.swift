import Foundation

extension CapacityReport {
    /// The summary for chat and tickets: findings, the cluster's resources, headroom and tenants.
    public func markdown() -> String {
        var lines = [
            "# Corral capacity report",
            "",
            "Generated \(ReportText.date(generatedAt)); history from \(ReportText.date(since)); horizon "
                + "\(ReportText.duration(horizonSeconds)); \(nodes.count) nodes, \(tenants.count) tenants.",
            "",
            "## Findings",
            "",
        ]
        lines += findings.map { "- **\($0.severity.rawValue)** \($0.text)" }
        lines += [
            "", "## Cluster", "",
            "| resource | p50 used | p95 used | max used | mean reserved | reaches 80% | reaches 100% |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in cluster.resources {
            lines.append(
                "| \(ReportText.resource(r.kind)) | \(ReportText.percent(r.used?.p50)) | \(ReportText.percent(r.used?.p95)) "
                    + "| \(ReportText.percent(r.used?.max)) | \(ReportText.percent(r.reserved?.mean)) "
                    + "| \(r.crosses80At.map(crossText) ?? "not within horizon") "
                    + "| \(r.crosses100At.map(crossText) ?? "not within horizon") |")
        }
        lines += ["", "## Headroom", "", "| task shape | fit now | fit at forecast peak |", "|---|---|---|"]
        lines += headroom.map { "| \(ReportText.shape($0.cpu, $0.memory)) | \($0.fitNow) | \($0.fitAtPeak) |" }
        if stranded.nodes.contains(where: { $0.reclaimableCPU != nil }) {
            lines += [
                "", "## Reclaimable", "",
                "Reserved (under 90%) above the forecast's 80% bound over the horizon: what reclaimable jobs could use.",
                "", "| node | CPU | memory |", "|---|---|---|",
            ]
            lines += stranded.nodes.map {
                "| \($0.node) | \($0.reclaimableCPU.map(ReportText.cores) ?? "no forecast") "
                    + "| \($0.reclaimableMemory.map(ReportText.bytes) ?? "no forecast") |"
            }
        }
        if !tenants.isEmpty {
            lines += [
                "", "## Tenants", "", "| tenant | resource | quota | now | peak | quota reached |",
                "|---|---|---|---|---|---|",
            ]
            for tenant in tenants {
                for r in tenant.resources where r.quota != nil || r.current > 0 {
                    lines.append(
                        "| \(tenant.tenant) | \(ReportText.tenantResource(r.kind)) "
                            + "| \(r.quota.map { ReportText.tenantValue(r.kind, $0) } ?? "none") "
                            + "| \(ReportText.tenantValue(r.kind, r.current)) | \(ReportText.tenantValue(r.kind, r.peak)) "
                            + "| \(r.quota == nil ? "no quota" : r.exhaustedAt.map(crossText) ?? "not within horizon") |"
                    )
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report in JSON: sorted keys, so that two runs over the same data compare byte for byte.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    public enum Format: String, Sendable, CaseIterable {
        case html, json, md

        public var contentType: String {
            switch self {
            case .html: "text/html; charset=utf-8"
            case .json: "application/json"
            case .md: "text/markdown; charset=utf-8"
            }
        }
    }

    public func rendered(_ format: Format) throws -> String {
        switch format {
        case .html: html()
        case .json: try json()
        case .md: markdown()
        }
    }
}
