import CorralModel
import CorralProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Placement
import Prometheus
import Scheduler

/// The scheduler's routes. Every route but `/v1/openapi.json` (and `/metrics` if the configuration says
/// `metricsPublic`) needs a bearer token; tenants see and touch only their own jobs, a node's agent only
/// its own node.
public struct SchedulerAPI: Sendable {
    public let scheduler: Scheduler
    public let config: SchedulerConfig
    /// Keys the relay tokens: the one for node X is HMAC-SHA256(relayKey, X), handed to X's agent at
    /// registration and presented when the scheduler fetches X's logs.
    let relayKey: SymmetricKey
    /// The CA of agents' certificates (mTLS, and their https:// log endpoints), if configured: then an
    /// agent route for node X also needs a client certificate named X.
    let agentCA: String?
    var mutualTLS: Bool { agentCA != nil }
    public let metrics: PrometheusCollectorRegistry
    let submitted: Counter
    let rejected: Counter
    let heartbeats: Counter
    /// Whether this scheduler serves requests or sends them to the leader.
    public let role: RoleState
    /// This scheduler's own address, as `/v1/leader` tells it.
    let advertise: String?
    /// Where alert notifications go (nil: none are sent, as in route tests).
    let alerts: AlertSender?
    /// The web console's signed-in browsers, and whether their cookies are marked Secure (TLS).
    public let sessions: ConsoleSessions
    let secureCookies: Bool
    let reports = ConsoleReports()
    let liveData = ConsoleDataCache()

    public init(
        scheduler: Scheduler, config: SchedulerConfig, relayKey: SymmetricKey = SymmetricKey(size: .bits256),
        agentCA: String? = nil, role: RoleState = RoleState(.standalone), advertise: String? = nil,
        alerts: AlertSender? = nil, sessions: ConsoleSessions = ConsoleSessions(), secureCookies: Bool = false
    ) {
        self.alerts = alerts
        self.sessions = sessions
        self.secureCookies = secureCookies
        self.scheduler = scheduler
        self.role = role
        self.advertise = advertise
        self.config = config
        self.relayKey = relayKey
        self.agentCA = agentCA
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

    public func router() -> Router<SchedulerRequestContext> {
        let router = Router(context: SchedulerRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: LeaderMiddleware(role: role))
        router.add(
            middleware: AuthenticationMiddleware(tokens: TokenTable(config), scheduler: scheduler, sessions: sessions))
        addMetricsRoute(router)
        router.get("/v1/leader") { _, _ in
            let role = role.current
            let leader: String? =
                switch role {
                case .leading, .standalone: advertise
                case .following(let leader): leader
                case .noLeader: nil
                }
            return try json(LeaderView(role: role.description, leader: leader, address: advertise))
        }
        router.get("/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        addJobRoutes(router)
        addAgentRoutes(router)
        addLogRoutes(router)
        addHistoryRoutes(router)
        addCheckpointCopyRoutes(router)
        router.get("/v1/nodes") { _, context in
            try context.require([.admin])
            return try json(await scheduler.nodes)
        }
        router.delete("/v1/nodes/:node") { _, context in
            try context.require([.admin])
            let node = try nodeID(context)
            guard let requeued = try await scheduler.forget(node: node) else {
                throw SchedulerError.unknownNode(node.rawValue)
            }
            return try json(NodeForgotten(node: node, requeued: requeued))
        }
        addDrainRoutes(router)
        router.get("/v1/alerts") { _, context in
            try context.require([.admin])
            return try json(await scheduler.firingAlerts)
        }
        router.get("/v1/tenants/:tenant/quota") { _, context in
            let tenant = try context.parameters.require("tenant")
            let who = try context.caller()
            guard who == .admin || who == .tenant(tenant) else { throw APIError.forbidden("not tenant \(tenant)") }
            guard config.tenants[tenant] != nil else { throw APIError.notFound("tenant \(tenant)") }
            return try json(await quotaStatus(tenant))
        }
        router.get("/v1/dead-letters") { _, context in
            try context.require([.admin])
            return try json(await scheduler.deadLetters.map(TaskView.init))
        }
        addReportRoutes(router)
        addConsoleRoutes(router)
        return router
    }

    func addJobRoutes(_ router: Router<SchedulerRequestContext>) {
        router.post("/v1/jobs") { request, context in
            let who = try context.requireUser("submit jobs")
            let value = try await submission(request)
            let spec: JobSpec
            do {
                spec = try JobSpec.parse(value)
            } catch let error as JobSpecError {
                rejected.increment()
                throw APIError.badRequest("the job spec is invalid", problems: error.problems)
            }
            do { try permit(spec, by: who) } catch {
                rejected.increment()
                throw error
            }
            let job = try await admitted { try await scheduler.submit(spec) }
            return try json(await JobView(job, scheduler: scheduler), status: .created)
        }
        router.get("/v1/jobs") { _, context in
            let who = try context.requireUser("list jobs")
            var tenant: String? = nil
            if case .tenant(let t) = who { tenant = t }
            var views: [JobView] = []
            for job in await scheduler.jobs(tenant: tenant) { views.append(await JobView(job, scheduler: scheduler)) }
            return try json(views)
        }
        router.get("/v1/jobs/:id") { _, context in
            let job = try await visibleJob(context)
            return try json(await JobView(job, scheduler: scheduler))
        }
        router.delete("/v1/jobs/:id") { _, context in
            let job = try await visibleJob(context)
            let cancelled = try await scheduler.cancel(job: job.id) ?? job
            return try json(await JobView(cancelled, scheduler: scheduler))
        }
        router.post("/v1/jobs/:id/scale") { request, context in
            let job = try await visibleJob(context)
            let body = try await Self.body(of: request, upTo: 4096)
            guard
                let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)),
                case .object(let fields) = value, case .number(let number)? = fields["count"],
                let count = Int(exactly: number), (1...100_000).contains(count)
            else {
                throw APIError.badRequest(
                    "the body must be {\"count\": N}",
                    problems: [.init(field: "count", message: "an integer within 1...100000")])
            }
            guard job.spec.placement == .any else {
                throw APIError(
                    status: 409, code: "broadcast",
                    message:
                        "job \(job.id) runs one task on each of its nodes (placement.mode each-node): it is not scaled")
            }
            guard job.spec.type == .service else {
                throw APIError(
                    status: 409, code: "not_a_service",
                    message: "job \(job.id) is a batch job: only services are scaled")
            }
            guard let scaled = try await scheduler.scale(job: job.id, to: count) else {
                throw APIError(status: 409, code: "cancelled", message: "job \(job.id) is cancelled")
            }
            return try json(await JobView(scaled, scheduler: scheduler))
        }
        addScheduleRoutes(router)
        addWorkflowRoutes(router)
        router.get("/v1/jobs/:id/tasks") { _, context in
            let job = try await visibleJob(context)
            return try json(await scheduler.tasks(of: job.id).map(TaskView.init))
        }
    }

    // MARK: Helpers

    /// Runs a submission, counting it, with the scheduler's refusals as API errors: over quota (422), over a
    /// limit (429), a field the scheduler cannot use (400).
    func admitted<T>(_ submit: () async throws -> T) async throws -> T {
        do {
            let result = try await submit()
            submitted.increment()
            return result
        } catch SchedulerError.overQuota(let why) {
            rejected.increment()
            throw APIError(status: 422, code: "over_quota", message: why)
        } catch SchedulerError.overLimit(let why) {
            rejected.increment()
            throw APIError(status: 429, code: "too_many", message: why)
        } catch SchedulerError.noNodes(let why) {
            rejected.increment()
            throw APIError(status: 422, code: "no_nodes", message: why)
        } catch SchedulerError.invalid(let field, let why) {
            rejected.increment()
            throw APIError.badRequest("the job spec is invalid", problems: [ValueError(field: field, message: why)])
        }
    }

    /// A submission's body as JSON, within `maxRequestBodyBytes`; not JSON is a 400.
    func submission(_ request: Request) async throws -> JSONValue {
        let body = try await Self.body(of: request, upTo: config.maxRequestBodyBytes ?? 1 << 20)
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
        } catch {
            rejected.increment()
            throw APIError.badRequest("the body is not JSON: \(error.localizedDescription)")
        }
    }

    /// What a valid spec must also pass: the caller may submit for its tenant, the tenant is configured, and
    /// the tenant may use what the spec asks for (the host's network, volumes). `prefix` is the spec's path
    /// in the body (`jobs[2].` in a workflow).
    func permit(_ spec: JobSpec, by who: Principal, prefix: String = "") throws {
        if case .tenant(let tenant) = who, tenant != spec.tenant {
            throw APIError.forbidden("tenant \(tenant) cannot submit for tenant \(spec.tenant)")
        }
        guard let tenant = config.tenants[spec.tenant] else {
            throw APIError(
                status: 422, code: "unknown_tenant", message: "\(prefix)tenant: \(spec.tenant) is not configured",
                problems: [.init(field: prefix + "tenant", message: "\"\(spec.tenant)\" is not configured")])
        }
        if spec.network.mode == .host, tenant.allowHostNetwork != true {
            let why = "tenant \(spec.tenant) may not use the host's network (allowHostNetwork is not set)"
            throw APIError(
                status: 422, code: "not_permitted", message: "\(prefix)network.mode: \(why)",
                problems: [.init(field: prefix + "network.mode", message: why)])
        }
        let allowed = Set(tenant.volumes ?? [])
        let refused = spec.volumes.enumerated().filter { !allowed.contains($0.element.name) }.map {
            APIError.Problem(
                field: prefix + "volumes[\($0.offset)].name",
                message: "tenant \(spec.tenant) may not mount volume \($0.element.name) (not in its volumes)")
        }
        if !refused.isEmpty {
            throw APIError(
                status: 422, code: "not_permitted",
                message: refused.map { "\($0.field): \($0.message)" }.joined(separator: "; "),
                problems: refused)
        }
    }

    /// The job named in the path, if the caller may see it (a tenant seeing another's job gets 403).
    func visibleJob(_ context: SchedulerRequestContext) async throws -> JobRecord {
        let who = try context.requireUser("read jobs")
        let text = try context.parameters.require("id")
        guard let id = JobID(text), let job = await scheduler.job(id) else { throw APIError.notFound("job \(text)") }
        if case .tenant(let tenant) = who, tenant != job.spec.tenant {
            throw APIError.forbidden("job \(id) belongs to another tenant")
        }
        return job
    }

    /// A JSON path as problems name it: `allocations.0.id`.
    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    static func invalid(_ context: DecodingError.Context) -> APIError {
        let path = Self.path(context.codingPath)
        return APIError.badRequest(
            "\(path): \(context.debugDescription)",
            problems: [ValueError(field: path, message: context.debugDescription)])
    }

    /// A request's body, at most `limit` bytes: a larger one is a 413 with a JSON error, not NIO's error text.
    static func body(of request: Request, upTo limit: Int) async throws -> ByteBuffer {
        do { return try await request.body.collect(upTo: limit) } catch is NIOTooManyBytesError {
            throw APIError(status: 413, code: "too_large", message: "the request body is over \(limit) bytes")
        }
    }

    func decode<T: Decodable>(_ request: Request) async throws -> T {
        // Agents' messages list every allocation of a node: four times a job's limit.
        try decodeBody(try await Self.body(of: request, upTo: 4 * (config.maxRequestBodyBytes ?? 1 << 20)))
    }

    /// A body already read, as `T`; what does not fit is a 400 naming the field.
    func decodeBody<T: Decodable>(_ body: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let DecodingError.keyNotFound(key, context) {
            let path = Self.path(context.codingPath + [key])
            throw APIError.badRequest(
                "\(path): is required", problems: [ValueError(field: path, message: "is required")])
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw Self.invalid(context)
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw Self.invalid(context)  // a value that is no valid id, say
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
