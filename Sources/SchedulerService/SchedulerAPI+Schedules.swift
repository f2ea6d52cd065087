import CorralModel
import CorralProtocol
import Hummingbird
import Scheduler

/// A schedule's runs, and pausing and resuming it.
extension SchedulerAPI {
    func addScheduleRoutes(_ router: Router<SchedulerRequestContext>) {
        router.get("/v1/jobs/:id/runs") { _, context in
            let job = try await visibleSchedule(context)
            var views: [JobView] = []
            for run in await scheduler.runs(of: job.id) { views.append(await JobView(run, scheduler: scheduler)) }
            return try json(views)
        }
        for (path, paused) in [("/v1/jobs/:id/pause", true), ("/v1/jobs/:id/resume", false)] {
            router.post(RouterPath(path)) { _, context in
                let job = try await visibleSchedule(context)
                guard !job.cancelled else {
                    throw APIError(status: 409, code: "cancelled", message: "schedule \(job.id) is cancelled")
                }
                _ = try await scheduler.setPaused(job.id, paused)
                return try json(await JobView(job, scheduler: scheduler))
            }
        }
    }

    /// The job in the path, which must be a schedule (409 `not_a_schedule` otherwise).
    func visibleSchedule(_ context: SchedulerRequestContext) async throws -> JobRecord {
        let job = try await visibleJob(context)
        guard job.spec.schedule != nil else {
            throw APIError(
                status: 409, code: "not_a_schedule",
                message: "job \(job.id) is not a schedule (it has no schedule field)")
        }
        return job
    }
}
