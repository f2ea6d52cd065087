import CorralModel
import CorralProtocol
import Hummingbird
import Prometheus
import Scheduler

/// Workflows (several jobs with edges, in one request) and job graphs.
extension SchedulerAPI {
    func addWorkflowRoutes(_ router: Router<SchedulerRequestContext>) {
        router.post("/v1/workflows") { request, context in
            let who = try context.requireUser("submit jobs")
            let value = try await submission(request)
            let workflow: Workflow
            do {
                workflow = try Workflow.parse(value)
            } catch let error as JobSpecError {
                rejected.increment()
                throw APIError.badRequest("the workflow is invalid", problems: error.problems)
            }
            do {
                for (index, spec) in workflow.jobs.enumerated() { try permit(spec, by: who, prefix: "jobs[\(index)].") }
            } catch {
                rejected.increment()
                throw error
            }
            let jobs = try await admitted { try await scheduler.submit(workflow: workflow) }
            var views: [JobView] = []
            for job in jobs { views.append(await JobView(job, scheduler: scheduler)) }
            return try json(WorkflowView(jobs: views), status: .created)
        }
        router.get("/v1/jobs/:id/graph") { _, context in
            let job = try await visibleJob(context)
            let graph = await scheduler.graph(of: job.id)
            var views: [JobView] = []
            for job in graph.jobs { views.append(await JobView(job, scheduler: scheduler)) }
            return try json(
                JobGraphView(jobs: views, edges: graph.edges.map { .init(from: $0.0, to: $0.1, on: $0.2) }))
        }
    }
}
