import Foundation
import Reports
import Scheduler

/// Capacity reports for the console, each kept a minute: the tenants page's forecasts and the capacity
/// page read the usage history once per minute and options, however many browsers watch.
actor ConsoleReports {
    static let maxAge = 60.0
    static let maxKept = 8
    private var kept: [String: (built: Double, report: Result<CapacityReport, any Error>)] = [:]

    /// The report for these options, built when the kept one is older than a minute.
    func report(scheduler: Scheduler, since: String?, horizon: String?) async throws -> CapacityReport {
        let key = "\(since ?? "")|\(horizon ?? "")"
        let now = Date().timeIntervalSince1970
        if let entry = kept[key], now - entry.built < Self.maxAge { return try entry.report.get() }
        let options = try CapacityReportOptions.parse(since: since, horizon: horizon, shapes: [])
        let result: Result<CapacityReport, any Error>
        do {
            result = .success(try await CapacityReport.build(scheduler: scheduler, options: options))
        } catch {
            result = .failure(error)
        }
        if kept.count >= Self.maxKept, let oldest = kept.min(by: { $0.value.built < $1.value.built }) {
            kept[oldest.key] = nil
        }
        kept[key] = (now, result)
        return try result.get()
    }
}
