import Reports
import Scheduler
import Store

extension CapacityReport {
    public enum BuildError: Error, CustomStringConvertible {
        case noHistory

        public var description: String { "this scheduler keeps no usage history, so there is nothing to report on" }
    }

    /// The report for a running scheduler: its state now and its usage history.
    public static func build(scheduler: Scheduler, options: CapacityReportOptions, progress: Progress? = nil)
        async throws -> CapacityReport
    {
        guard let history = scheduler.history else { throw BuildError.noHistory }
        return try await build(
            snapshot: await scheduler.snapshot(), history: history, options: options, progress: progress)
    }
}
