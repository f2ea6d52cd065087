import CorralModel

/// Each tenant's quota and what its scheduled and running tasks hold now. Reclaimable tasks are counted
/// apart (`reclaimable`): each kind may hold up to the tenant's quota, so work that yields to the
/// guaranteed never uses up what the tenant is guaranteed.
struct QuotaLedger: Sendable {
    let quotas: [String: TenantQuota]
    private(set) var held: [String: TenantUsage] = [:]
    private(set) var reclaimable: [String: TenantUsage] = [:]

    init(quotas: [String: TenantQuota]) { self.quotas = quotas }

    /// Why one task of `spec` could never run for its tenant, if so.
    func rejection(of spec: JobSpec) -> String? { quotas[spec.tenant]?.excess(of: spec.resources) }

    func usage(of tenant: String) -> TenantUsage { held[tenant] ?? TenantUsage() }

    /// What the tenant's reclaimable tasks hold, nil when it has none.
    func reclaimableUsage(of tenant: String) -> TenantUsage? { reclaimable[tenant] }

    /// Whether the tenant may hold `resources` more now, as a guaranteed or a reclaimable task.
    func admits(_ resources: Resources, tenant: String, reclaimable isReclaimable: Bool = false) -> Bool {
        guard let quota = quotas[tenant] else { return true }
        let usage = isReclaimable ? reclaimable[tenant] ?? TenantUsage() : usage(of: tenant)
        return usage.admits(resources, under: quota)
    }

    mutating func hold(_ resources: Resources, tenant: String, reclaimable isReclaimable: Bool = false) {
        if isReclaimable {
            reclaimable[tenant, default: TenantUsage()].add(resources)
        } else {
            held[tenant, default: TenantUsage()].add(resources)
        }
    }

    mutating func release(_ resources: Resources, tenant: String, reclaimable isReclaimable: Bool = false) {
        if isReclaimable {
            reclaimable[tenant]?.remove(resources)
            if reclaimable[tenant] == TenantUsage() { reclaimable[tenant] = nil }
        } else {
            held[tenant]?.remove(resources)
        }
    }

    /// Every tenant with a quota or with holdings.
    var tenants: Set<String> { Set(quotas.keys).union(held.keys).union(reclaimable.keys) }
}
