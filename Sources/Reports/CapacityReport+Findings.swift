extension CapacityReport {
    /// The findings list at the top: saturation dates, exhausted quotas, down nodes, no headroom,
    /// stranded capacity and over-requesting jobs, in plain words, most urgent and soonest first.
    func makeFindings() -> [Finding] {
        var findings: [Finding] = []
        func when(_ time: Double) -> String {
            time <= generatedAt ? "now" : "around \(ReportText.date(time))"
        }
        for scope in [cluster] + nodes {
            let name = scope.id == "cluster" ? "the cluster" : scope.id
            if scope.id != "cluster", !scope.ready {
                findings.append(.init(severity: .warning, text: "\(name) is not ready (missed its heartbeats)"))
            }
            for resource in scope.resources {
                let what = "\(ReportText.resource(resource.kind)) on \(name)"
                let crossings: [(Double?, Finding.Severity, String, String)] = [
                    (resource.crosses100At, .critical, "is at 100%", "reaches 100%"),
                    (resource.crosses80At, .warning, "is above 80%", "reaches 80%"),
                ]
                if let (at, severity, already, coming) = crossings.first(where: { $0.0 != nil }), let at {
                    let text = at <= generatedAt ? "\(what) \(already) now" : "\(what) \(coming) \(when(at))"
                    findings.append(.init(severity: severity, text: text, time: at))
                } else if let at = resource.crosses100Upper95At {
                    findings.append(
                        .init(
                            severity: .info,
                            text: "\(what) could reach 100% as early as \(ReportText.date(at)) (95% bound)",
                            time: at))
                }
            }
        }
        for tenant in tenants {
            for resource in tenant.resources {
                guard let at = resource.exhaustedAt, let quota = resource.quota else { continue }
                let quotaText = ReportText.tenantValue(resource.kind, quota)
                let text =
                    at <= generatedAt
                    ? "tenant \(tenant.tenant) is at its \(ReportText.tenantResource(resource.kind)) quota (\(quotaText)) now"
                    : "tenant \(tenant.tenant) reaches its \(ReportText.tenantResource(resource.kind)) quota (\(quotaText)) \(when(at))"
                findings.append(.init(severity: .warning, text: text, time: at))
            }
        }
        for room in headroom where room.fitNow == 0 {
            findings.append(
                .init(severity: .critical, text: "no more tasks of \(ReportText.shape(room.cpu, room.memory)) fit now"))
        }
        if let cores = stranded.reclaimableCPU, cores >= 1 {
            findings.append(
                .init(
                    severity: .info,
                    text: "\(ReportText.cores(cores)) reserved but forecast idle over the horizon: reclaimable jobs "
                        + "could use them (docs/scheduler.md, reclamation)"))
        }
        if stranded.cpuWithoutMemory > 0 {
            findings.append(
                .init(
                    severity: .info,
                    text: "\(ReportText.cores(stranded.cpuWithoutMemory)) free on nodes with no memory left for a task")
            )
        }
        if stranded.memoryWithoutCPU > 0 {
            findings.append(
                .init(
                    severity: .info,
                    text: "\(ReportText.bytes(stranded.memoryWithoutCPU)) free on nodes with no CPU left for a task"))
        }
        for hint in rightSizing.prefix(3) where hint.suggestedCPU != nil || hint.suggestedMemory != nil {
            var parts: [String] = []
            if let cpu = hint.suggestedCPU {
                parts.append("CPU \(ReportText.cores(hint.requestedCPU)) -> \(ReportText.cores(cpu))")
            }
            if let memory = hint.suggestedMemory {
                parts.append("memory \(ReportText.bytes(hint.requestedMemory)) -> \(ReportText.bytes(memory))")
            }
            findings.append(
                .init(
                    severity: .info,
                    text: "job \(hint.name) (\(hint.job)) could request \(parts.joined(separator: ", "))"))
        }
        if !findings.contains(where: { $0.severity != .info && $0.time != nil }) {
            findings.append(
                .init(
                    severity: .info,
                    text:
                        "no resource reaches 80% of capacity within the horizon (\(ReportText.duration(horizonSeconds)))"
                ))
        }
        return findings.enumerated().sorted {
            ($0.element.severity, $0.element.time ?? .infinity, $0.offset)
                < ($1.element.severity, $1.element.time ?? .infinity, $1.offset)
        }.map(\.element)
    }
}
