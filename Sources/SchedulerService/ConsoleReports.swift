import Console
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

/// What each live page last showed each viewer, kept a second: every stream of one page and viewer (tabs,
/// reconnects) shares one gathering a second instead of each walking the scheduler's tasks on its own.
/// Entries older than `maxAge` are dropped at each insert, so it holds only what streams asked for lately.
actor ConsoleDataCache {
    static let maxAge = 1.0
    private var kept: [String: (at: Double, data: ConsoleData)] = [:]

    func data(_ key: String, gather: () async throws -> ConsoleData) async rethrows -> ConsoleData {
        let now = Date().timeIntervalSince1970
        if let entry = kept[key], now - entry.at < Self.maxAge { return entry.data }
        let data = try await gather()
        kept = kept.filter { now - $0.value.at < Self.maxAge }
        kept[key] = (now, data)
        return data
    }
}
