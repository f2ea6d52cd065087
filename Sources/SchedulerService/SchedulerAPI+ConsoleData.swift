import Console
import CorralModel
import CorralProtocol
import Foundation
import Reports
import Scheduler

extension SchedulerAPI {
    /// The viewer a principal is on the console: the admin or a tenant; anyone else is refused.
    func viewer(_ who: Principal) throws -> ConsoleViewer {
        switch who {
        case .admin: return .admin
        case .tenant(let name): return .tenant(name)
        default: throw APIError.forbidden("\(who) cannot use the console")
        }
    }

    /// Refuses a page the viewer may not open: admin-only pages for a tenant, another tenant's job.
    func authorize(_ page: ConsolePage, _ viewer: ConsoleViewer) async throws {
        if page.adminOnly && !viewer.isAdmin { throw APIError.forbidden("this page is the admin's") }
        if case .job(let id) = page {
            guard let job = await scheduler.job(id) else { throw APIError.notFound("job \(id)") }
            if let tenant = viewer.tenant, tenant != job.spec.tenant {
                throw APIError.forbidden("job \(id) belongs to another tenant")
            }
        }
        if case .jobs(let tenant?, _) = page, let own = viewer.tenant, own != tenant {
            throw APIError.forbidden("tenant \(own) cannot list tenant \(tenant)'s jobs")
        }
    }

    /// What `page` shows to `viewer`, gathered now. A tenant's data never holds another tenant's jobs,
    /// tasks or quota; the nodes, alerts and the whole cluster's counts are the admin's alone.
    func consoleData(_ page: ConsolePage, viewer: ConsoleViewer, query: (String) -> String? = { _ in nil })
        async throws -> ConsoleData
    {
        var data = ConsoleData(now: Date().timeIntervalSince1970)
        switch page {
        case .overview:
            let snapshot = await scheduler.metricsSnapshot()
            if let tenant = viewer.tenant {
                data.taskCounts = snapshot.tasks[tenant] ?? [:]
                data.queued = data.taskCounts[.pending] ?? 0
                data.quotas = [await quotaStatus(tenant)]
            } else {
                for counts in snapshot.tasks.values {
                    for (state, count) in counts { data.taskCounts[state, default: 0] += count }
                }
                data.queued = snapshot.queued
                data.deadLetters = snapshot.deadLetters
                data.nodes = await scheduler.nodes.sorted { $0.id < $1.id }
                data.charts = await scheduler.loadCharts()
                data.alerts = await scheduler.firingAlerts
            }
        case .nodes:
            data.nodes = await scheduler.nodes.sorted { $0.id < $1.id }
        case .jobs(let tenant, let state):
            try await gatherJobs(&data, tenant: viewer.tenant ?? tenant, state: state)
            data.tenants = viewer.tenant.map { [$0] } ?? config.tenants.keys.sorted()
        case .job(let id):
            if let job = await scheduler.job(id), viewer.tenant == nil || viewer.tenant == job.spec.tenant {
                data.job = await JobView(job, scheduler: scheduler)
                data.tasks = await scheduler.tasks(of: id).map(TaskView.init)
            }
        case .tenants:
            let tenants = viewer.tenant.map { [$0] } ?? config.tenants.keys.sorted()
            for tenant in tenants { data.quotas.append(await quotaStatus(tenant)) }
            do {
                let report = try await reports.report(scheduler: scheduler, since: "1h", horizon: "15m")
                data.tenantForecasts =
                    "<p class=\"note\">The last hour and the next 15 minutes, from the usage history (refreshed each minute; "
                    + "the capacity page looks further).</p>"
                    + "<div class=\"report\">\(report.tenantsHTML(only: viewer.tenant))</div>"
            } catch {
                data.tenantForecasts = "<p class=\"empty\">No forecast: \(ReportText.html("\(error)"))</p>"
            }
        case .capacity:
            data.reportSince = query("since").flatMap { $0.isEmpty ? nil : $0 } ?? data.reportSince
            data.reportHorizon = query("horizon").flatMap { $0.isEmpty ? nil : $0 } ?? data.reportHorizon
            do {
                let report = try await reports.report(
                    scheduler: scheduler, since: data.reportSince, horizon: data.reportHorizon)
                data.capacityReport = report.htmlBody()
            } catch let error as ValueError {
                throw APIError.badRequest(error.description, problems: [error])
            } catch {
                data.capacityReport = "<p class=\"empty\">No report: \(ReportText.html("\(error)"))</p>"
            }
        }
        return data
    }

    /// The newest jobs that match, among the newest `scanLimit` of the tenant (or of all).
    func gatherJobs(_ data: inout ConsoleData, tenant: String?, state: JobState?) async throws {
        let scanLimit = 2000
        let jobs = await scheduler.jobs(tenant: tenant).sorted { $0.submittedAt > $1.submittedAt }.prefix(scanLimit)
        for job in jobs {
            let view = await JobView(job, scheduler: scheduler)
            guard state == nil || view.state == state else { continue }
            data.jobsMatched += 1
            if data.jobs.count < ConsoleData.jobLimit { data.jobs.append(view) }
        }
    }

    func quotaStatus(_ tenant: String) async -> QuotaStatus {
        QuotaStatus(
            tenant: tenant, quota: await scheduler.quota(of: tenant), usage: await scheduler.usage(of: tenant),
            reclaimable: await scheduler.reclaimableUsage(of: tenant))
    }
}
