import CorralModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Placement
import Prometheus
import Scheduler

/// The scheduler's routes. Every route but `/metrics` and `/v1/openapi.json` needs a bearer token;
/// tenants see and touch only their own jobs.
public struct SchedulerAPI: Sendable {
    public let scheduler: Scheduler
    public let config: SchedulerConfig
    public let metrics: PrometheusCollectorRegistry
    let submitted: Counter
    let rejected: Counter
    let heartbeats: Counter

    public init(scheduler: Scheduler, config: SchedulerConfig) {
        self.scheduler = scheduler
        self.config = config
        metrics = PrometheusCollectorRegistry()
        submitted = metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "corral", metricName: "jobs_submitted", unitName: "total",
                helpText: "Jobs acknowledged to clients."))
        rejected = metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "corral", metricName: "jobs_rejected", unitName: "total",
                helpText: "Submissions refused with a 4xx answer."))
        heartbeats = metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "corral", metricName: "heartbeats", unitName: "total",
                helpText: "Agent heartbeats received."))
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        router.get("/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        addJobRoutes(router)
        addAgentRoutes(router)
        addLogRoutes(router)
        router.get("/v1/nodes") { request, _ in
            try authorize(request, [.admin, .agent])
            return try json(await scheduler.nodes)
        }
        router.get("/v1/tenants/:tenant/quota") { request, context in
            let tenant = try context.parameters.require("tenant")
            let who = try authenticate(request)
            guard who == .admin || who == .tenant(tenant) else { throw APIError.forbidden("not tenant \(tenant)") }
            guard config.tenants[tenant] != nil else { throw APIError.notFound("tenant \(tenant)") }
            return try json(
                QuotaStatus(
                    tenant: tenant, quota: await scheduler.quota(of: tenant), usage: await scheduler.usage(of: tenant)))
        }
        router.get("/v1/dead-letters") { request, _ in
            try authorize(request, [.admin])
            return try json(await scheduler.deadLetters.map(TaskView.init))
        }
        addReportRoutes(router)
        return router
    }

    func addJobRoutes(_ router: Router<BasicRequestContext>) {
        router.post("/v1/jobs") { request, _ in
            let who = try authenticate(request)
            guard who != .agent else { throw APIError.forbidden("agents cannot submit jobs") }
            let body = try await request.body.collect(upTo: 1 << 20)
            let value: JSONValue
            do {
                value = try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
            } catch {
                rejected.increment()
                throw APIError.badRequest("the body is not JSON: \(error.localizedDescription)")
            }
            let spec: JobSpec
            do {
                spec = try JobSpec.parse(value)
            } catch let error as JobSpecError {
                rejected.increment()
                throw APIError.badRequest("the job spec is invalid", problems: error.problems)
            }
            if case .tenant(let tenant) = who, tenant != spec.tenant {
                rejected.increment()
                throw APIError.forbidden("tenant \(tenant) cannot submit for tenant \(spec.tenant)")
            }
            guard config.tenants[spec.tenant] != nil else {
                rejected.increment()
                throw APIError(
                    status: 422, code: "unknown_tenant", message: "tenant: \(spec.tenant) is not configured",
                    problems: [.init(field: "tenant", message: "\"\(spec.tenant)\" is not configured")])
            }
            do {
                let job = try await scheduler.submit(spec)
                submitted.increment()
                return try json(await JobView(job, scheduler: scheduler), status: .created)
            } catch SchedulerError.overQuota(let why) {
                rejected.increment()
                throw APIError(status: 422, code: "over_quota", message: why)
            }
        }
        router.get("/v1/jobs") { request, _ in
            let who = try authenticate(request)
            guard who != .agent else { throw APIError.forbidden("agents cannot list jobs") }
            var tenant: String? = nil
            if case .tenant(let t) = who { tenant = t }
            var views: [JobView] = []
            for job in await scheduler.jobs(tenant: tenant) { views.append(await JobView(job, scheduler: scheduler)) }
            return try json(views)
        }
        router.get("/v1/jobs/:id") { request, context in
            let job = try await visibleJob(request, context)
            return try json(await JobView(job, scheduler: scheduler))
        }
        router.delete("/v1/jobs/:id") { request, context in
            let job = try await visibleJob(request, context)
            let cancelled = try await scheduler.cancel(job: job.id) ?? job
            return try json(await JobView(cancelled, scheduler: scheduler))
        }
        router.get("/v1/jobs/:id/tasks") { request, context in
            let job = try await visibleJob(request, context)
            return try json(await scheduler.tasks(of: job.id).map(TaskView.init))
        }
    }

    func addAgentRoutes(_ router: Router<BasicRequestContext>) {
        router.post("/v1/agents/register") { request, _ in
            try authorize(request, [.agent, .admin])
            let registration: Registration = try await decode(request)
            var problems: [ValueError] = []
            if !Names.isValid(registration.node, maxLength: 63) {
                problems.append(ValueError(field: "node", message: "must be 1-63 characters of A-Z a-z 0-9 . _ -"))
            }
            if registration.capacity.cpuMillis <= 0 {
                problems.append(ValueError(field: "capacity.cpuMillis", message: "must be positive"))
            }
            if registration.capacity.memory <= 0 {
                problems.append(ValueError(field: "capacity.memory", message: "must be positive"))
            }
            for (field, value) in [
                ("ioRead", registration.capacity.ioRead), ("ioWrite", registration.capacity.ioWrite),
                ("pids", registration.capacity.pids),
            ] where value < 0 {
                problems.append(ValueError(field: "capacity.\(field)", message: "must not be negative"))
            }
            if let weight = registration.weight, !(weight > 0 && weight.isFinite) {
                problems.append(ValueError(field: "weight", message: "must be a positive number"))
            }
            guard problems.isEmpty else { throw APIError.badRequest("the registration is invalid", problems: problems) }
            let orders = try await scheduler.register(
                NodeRecord(
                    id: registration.node, capacity: registration.capacity, labels: registration.labels ?? [:],
                    weight: registration.weight ?? 1, info: registration.info ?? [:]))
            return try json(orders)
        }
        router.post("/v1/agents/:node/heartbeat") { request, context in
            try authorize(request, [.agent, .admin])
            let node = try context.parameters.require("node")
            let beat: Heartbeat = try await decode(request)
            heartbeats.increment()
            return try json(await scheduler.heartbeat(node: node, reports: beat.reports, usage: beat.usage))
        }
        router.get("/v1/agents/:node/allocations") { request, context in
            try authorize(request, [.agent, .admin])
            let node = try context.parameters.require("node")
            let raw = request.uri.queryParameters.get("wait")
            guard let wait = raw.map({ Double($0) }) ?? 20, (0...60).contains(wait) else {
                throw APIError.badRequest(
                    "wait: must be 0...60 seconds",
                    problems: [ValueError(field: "wait", message: "must be 0...60 seconds")])
            }
            return try json(await scheduler.poll(node: node, timeout: .milliseconds(Int64(wait * 1000))))
        }
    }

    // MARK: Helpers

    func authenticate(_ request: Request) throws -> Principal {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let who = config.principal(token: String(header.dropFirst(7)))
        else { throw APIError.unauthorized() }
        return who
    }

    func authorize(_ request: Request, _ allowed: [Principal]) throws {
        let who = try authenticate(request)
        guard allowed.contains(who) else { throw APIError.forbidden("this route is not open to \(who)") }
    }

    /// The job named in the path, if the caller may see it (a tenant seeing another's job gets 403).
    func visibleJob(_ request: Request, _ context: BasicRequestContext) async throws -> JobRecord {
        let who = try authenticate(request)
        guard who != .agent else { throw APIError.forbidden("agents cannot read jobs") }
        let id = try context.parameters.require("id")
        guard let job = await scheduler.job(id) else { throw APIError.notFound("job \(id)") }
        if case .tenant(let tenant) = who, tenant != job.spec.tenant {
            throw APIError.forbidden("job \(id) belongs to another tenant")
        }
        return job
    }

    func decode<T: Decodable>(_ request: Request) async throws -> T {
        let body = try await request.body.collect(upTo: 4 << 20)
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw APIError.badRequest(
                "\(path): is required", problems: [ValueError(field: path, message: "is required")])
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError.badRequest(
                "\(path): \(context.debugDescription)",
                problems: [ValueError(field: path, message: context.debugDescription)])
        } catch {
            throw APIError.badRequest("the body is not valid JSON for this route: \(error)")
        }
    }
}

func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(value))))
}

/// Turns `APIError`s (and anything unexpected) into JSON responses.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch SchedulerError.shuttingDown {
            return APIError(status: 503, code: "shutting_down", message: "the scheduler is shutting down").response()
        } catch SchedulerError.unknownNode(let node) {
            return APIError(
                status: 404, code: "unknown_node", message: "node \(node) is not registered: register first"
            )
            .response()
        } catch let error as HTTPError {
            let allowed = OpenAPIDocument.methods(forPath: request.uri.path)
            if error.status == .notFound, !allowed.isEmpty {
                var response = APIError(
                    status: 405, code: "method_not_allowed",
                    message:
                        "\(request.method) is not allowed on \(request.uri.path): use \(allowed.joined(separator: ", "))"
                ).response()
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            let code = error.status.code == 404 ? "not_found" : "http_\(error.status.code)"
            return APIError(status: error.status.code, code: code, message: error.body ?? error.status.reasonPhrase)
                .response()
        } catch {
            return APIError(status: 500, code: "internal", message: "\(error)").response()
        }
    }
}
