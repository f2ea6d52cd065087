import CorralProtocol

/// Pages as whole documents (first load) and as regions (the stream's updates): the same functions draw
/// both, so a page and its updates never disagree.
public enum ConsoleRender {
    public static func document(_ page: ConsolePage, data: ConsoleData, viewer: ConsoleViewer, csrf: String)
        -> String
    {
        let regions = Dictionary(
            uniqueKeysWithValues: self.regions(page, data: data, viewer: viewer).map { ($0.id, $0.html) })
        func region(_ id: String, _ heading: String? = nil, classes: String = "") -> String {
            let title = heading.map { "<h2 id=\"\(id)-h\">\(ConsoleHTML.e($0))</h2>" } ?? ""
            let label = heading == nil ? "" : " aria-labelledby=\"\(id)-h\""
            return
                "<section class=\"region \(classes)\"\(label)>\(title)<div id=\"\(id)\">\(regions[id] ?? "")</div></section>"
        }
        let (title, active, body): (String, String, String)
        switch page {
        case .overview:
            title = "Overview"
            active = "overview"
            body =
                region("summary")
                + (viewer.isAdmin
                    ? region("alerts", "Alerts firing") + region("node-cards", "Nodes: load now and forecast")
                    : region("quota", "Quota"))
        case .nodes:
            (title, active) = ("Nodes", "nodes")
            body = region("nodes", "Nodes")
        case .jobs(let tenant, let state):
            (title, active) = ("Jobs", "jobs")
            body =
                ConsoleJobs.filter(tenant: tenant, state: state, tenants: data.tenants, viewer: viewer)
                + region("jobs", "Jobs")
        case .job(let id):
            (title, active) = ("Job \(id)", "jobs")
            body = region("job-head") + region("tasks", "Tasks") + ConsoleJobs.logPanel
        case .tenants:
            (title, active) = ("Tenants", "tenants")
            body = region("quota", "Quota in use now") + region("forecast", "Use and forecast (capacity report)")
        case .capacity:
            (title, active) = ("Capacity report", "capacity")
            body =
                ConsoleCapacity.form(since: data.reportSince, horizon: data.reportHorizon)
                + "<div class=\"report\">\(data.capacityReport ?? "")</div>"
        }
        let stream = page == .capacity ? nil : page.streamQuery
        return ConsoleLayout.document(
            title: title, viewer: viewer, csrf: csrf, active: active, stream: stream, body: body)
    }

    /// The live regions of a page.
    public static func regions(_ page: ConsolePage, data: ConsoleData, viewer: ConsoleViewer) -> [ConsoleRegion] {
        switch page {
        case .overview:
            var regions = [ConsoleRegion("summary", ConsoleOverview.summary(data, viewer: viewer))]
            if viewer.isAdmin {
                regions.append(ConsoleRegion("alerts", ConsoleOverview.alerts(data.alerts)))
                regions.append(ConsoleRegion("node-cards", ConsoleOverview.nodeCards(data)))
            } else {
                regions.append(ConsoleRegion("quota", ConsoleTenants.quota(data.quotas)))
            }
            return regions
        case .nodes: return [ConsoleRegion("nodes", ConsoleNodes.table(data))]
        case .jobs: return [ConsoleRegion("jobs", ConsoleJobs.table(data))]
        case .job:
            return [
                ConsoleRegion("job-head", ConsoleJobs.head(data)), ConsoleRegion("tasks", ConsoleJobs.tasks(data)),
            ]
        case .tenants:
            return [
                ConsoleRegion("quota", ConsoleTenants.quota(data.quotas)),
                ConsoleRegion("forecast", data.tenantForecasts ?? ""),
            ]
        case .capacity: return []
        }
    }
}
