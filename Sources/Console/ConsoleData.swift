import CorralModel
import CorralProtocol

/// What a page shows, gathered by the scheduler for one viewer: only the parts the page needs are filled,
/// and a tenant's never hold another tenant's jobs, tasks or quota (the gatherer filters; the renderers
/// show what they are given).
public struct ConsoleData: Sendable {
    public var now: Double
    public var nodes: [NodeStatus] = []
    public var charts: [NodeLoadChart] = []
    /// Tasks by state (the viewer's own for a tenant), tasks waiting for a node, dead letters.
    public var taskCounts: [TaskState: Int] = [:]
    public var queued = 0
    public var deadLetters = 0
    public var alerts: [AlertNotification] = []
    public var quotas: [QuotaStatus] = []
    /// Jobs newest first, at most `ConsoleData.jobLimit`, and how many matched.
    public var jobs: [JobView] = []
    public var jobsMatched = 0
    /// The tenants the jobs filter offers.
    public var tenants: [String] = []
    public var job: JobView?
    public var tasks: [TaskView] = []
    /// Rendered tenant forecasts (the capacity report's tenants section), or why there are none.
    public var tenantForecasts: String?
    /// The capacity report's sections, or why there is none, and the options it was made with.
    public var capacityReport: String?
    public var reportSince = "14d"
    public var reportHorizon = "7d"

    public static let jobLimit = 200

    public init(now: Double) { self.now = now }
}
