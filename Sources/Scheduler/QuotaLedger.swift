import CorralModel

/// Each tenant's quota and what its scheduled and running tasks hold now.
struct QuotaLedger: Sendable {
    let quotas: [String: TenantQuota]
    private(set) var held: [String: TenantUsage] = [:]

    init(quotas: [String: TenantQuota]) { self.quotas = quotas }

    /// Why one task of `spec` could never run for its tenant, if so.
    func rejection(of spec: JobSpec) -> String? { quotas[spec.tenant]?.excess(of: spec.resources) }

    func usage(of tenant: String) -> TenantUsage { held[tenant] ?? TenantUsage() }

    /// Whether the tenant may hold `resources` more now.
    func admits(_ resources: Resources, tenant: String) -> Bool {
        guard let quota = quotas[tenant] else { return true }
        return usage(of: tenant).admits(resources, under: quota)
    }

    mutating func hold(_ resources: Resources, tenant: String) { held[tenant, default: TenantUsage()].add(resources) }
    mutating func release(_ resources: Resources, tenant: String) { held[tenant]?.remove(resources) }

    /// Every tenant with a quota or with holdings.
    var tenants: Set<String> { Set(quotas.keys).union(held.keys) }
}
