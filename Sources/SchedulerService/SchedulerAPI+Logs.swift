import AsyncHTTPClient
import CorralModel
import CorralProtocol
import CorralTLS
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOSSL
import Scheduler
import Synchronization

extension SchedulerAPI {
    func addLogRoutes(_ router: Router<SchedulerRequestContext>) {
        router.get("/v1/allocations/:id/logs/:stream") { request, context in
            let (id, stream, node, address) = try await logTarget(context)
            let offset = request.uri.queryParameters.get("offset").flatMap { UInt64($0) } ?? 0
            return try await relay(
                from: address, node: node, path: LogRelay.path(id, stream: stream, offset: offset),
                headers: [LogRelay.offsetHeader, LogRelay.runningHeader])
        }
        router.get("/v1/allocations/:id/fs") { request, context in
            let text = try context.parameters.require("id")
            let (id, node, address) = try await relayTarget(text, context, "read work directories")
            let query = request.uri.queryParameters
            let offset = query.get("offset").flatMap { UInt64($0) } ?? 0
            let limit = query.get("limit").flatMap { Int($0) }.map { min(max($0, 0), WorkFiles.maxLimit) }
            return try await relay(
                from: address, node: node,
                path: WorkFiles.path(id, path: query.get("path") ?? "", offset: offset, limit: limit),
                headers: [WorkFiles.sizeHeader, WorkFiles.offsetHeader])
        }
    }

    /// The log named in the path (`:id`, `:stream`) the caller may read: the allocation, the stream, its
    /// node and the node's address (`relayTarget`'s checks).
    func logTarget(_ context: SchedulerRequestContext) async throws -> (AllocationID, String, NodeID, String) {
        let text = try context.parameters.require("id")
        let stream = try context.parameters.require("stream")
        guard LogRelay.streams.contains(stream) else { throw APIError.notFound("log stream \(stream)") }
        let (id, node, address) = try await relayTarget(text, context, "read logs")
        return (id, stream, node, address)
    }

    /// The allocation the caller may read, its node and the address the node registered: the job must be the
    /// caller's (or the caller the admin) and the allocation its task's current attempt.
    func relayTarget(_ text: String, _ context: SchedulerRequestContext, _ action: String) async throws -> (
        AllocationID, NodeID, String
    ) {
        let who = try context.requireUser(action)
        guard let id = AllocationID(text), let job = await scheduler.job(id.task.job) else {
            throw APIError.notFound("allocation \(text)")
        }
        if case .tenant(let tenant) = who, tenant != job.spec.tenant {
            throw APIError.forbidden("allocation \(id) belongs to another tenant")
        }
        guard let task = await scheduler.tasks(of: job.id).first(where: { $0.id.index == id.task.index }),
            id.attempt <= task.machine.attempt
        else { throw APIError.notFound("allocation \(id)") }
        guard id.attempt == task.machine.attempt, let node = task.machine.lastNode else {
            throw APIError(
                status: 404, code: "not_found",
                message: "allocation \(id): the scheduler knows the node of attempt \(task.machine.attempt) only")
        }
        guard let address = await scheduler.nodes.first(where: { $0.id == node })?.address else {
            throw APIError(
                status: 409, code: "logs_unavailable",
                message: "node \(node) does not serve logs or files: start its agent with --listen HOST:PORT")
        }
        return (id, node, address)
    }

    /// Fetches a log or a work file from the address the node registered (checked as `http(s)://HOST:PORT` then, and
    /// again here), on a fixed path, with the node's relay token; redirects are not followed.
    func relay(from address: String, node: NodeID, path: String, headers passed: [String]) async throws -> Response {
        let (response, body) = try await fetch(from: address, node: node, path: path)
        var headers: HTTPFields = [
            .contentType: response.headers.first(name: "Content-Type") ?? "application/octet-stream"
        ]
        for name in passed {
            if let field = HTTPField.Name(name) { headers[field] = response.headers.first(name: name) }
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// An agent's answer on `path` and its body (at most `limit` bytes, else an `agent_unreachable` error);
    /// anything but a 200 is an API error.
    func fetch(from address: String, node: NodeID, path: String, limit: Int = 64 << 20) async throws -> (
        HTTPClientResponse, ByteBuffer
    ) {
        guard NodeAddress(address) != nil else {
            throw APIError(status: 502, code: "agent_unreachable", message: "node \(node) has no valid address")
        }
        var upstream = HTTPClientRequest(url: address + path)
        upstream.headers.add(name: "Authorization", value: "Bearer \(relayToken(for: node))")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await LogRelayClient.client(agentCA: agentCA).execute(upstream, timeout: .seconds(10))
            body = try await response.body.collect(upTo: limit)
        } catch {
            throw APIError(status: 502, code: "agent_unreachable", message: "node \(node) at \(address): \(error)")
        }
        guard response.status == .ok else {
            if let error = APIError.decoded(status: response.status.code, from: Data(body.readableBytesView)) {
                throw error
            }
            throw APIError(status: 502, code: "agent_error", message: "node \(node) answered \(response.status.code)")
        }
        return (response, body)
    }
}

/// The HTTP clients of the log relay: an agent's answer is never followed to another address, and an
/// https:// agent is verified against the CA of the agents' certificates (their names are node ids, not
/// host names: the address is the one the node registered with its credential).
enum LogRelayClient {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    static func client(agentCA: String?) throws -> HTTPClient {
        try clients.withLock { clients in
            if let client = clients[agentCA ?? ""] { return client }
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            if let agentCA {
                var tls = try TLSSettings.client(ca: agentCA)
                tls.certificateVerification = .noHostnameVerification
                configuration.tlsConfiguration = tls
            }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[agentCA ?? ""] = client
            return client
        }
    }
}
