import AsyncHTTPClient
import CorralModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Scheduler

/// Task logs travel agent -> scheduler -> client: the agent serves its log files on its `--listen`
/// address to the agent token only, and the scheduler relays them to whoever may see the job, so that
/// tenants' tokens never reach agents and tenant isolation is checked in one place.
public enum LogHeaders {
    /// The offset to ask for next.
    public static let offset = HTTPField.Name("Corral-Log-Offset")!
    /// `true` while the allocation runs on its node: a follower stops when it is `false` and no bytes came.
    public static let running = HTTPField.Name("Corral-Log-Running")!
    public static let streams: Set<String> = ["stdout", "stderr"]
}

extension SchedulerAPI {
    func addLogRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/v1/allocations/:id/logs/:stream") { request, context in
            let id = try context.parameters.require("id")
            let stream = try context.parameters.require("stream")
            guard LogHeaders.streams.contains(stream) else { throw APIError.notFound("log stream \(stream)") }
            let who = try authenticate(request)
            guard who != .agent else { throw APIError.forbidden("agents cannot read other nodes' logs") }
            // `<job>.<index>.<attempt>`
            let parts = id.split(separator: ".")
            guard parts.count >= 3, let index = Int(parts[parts.count - 2]), let attempt = Int(parts[parts.count - 1])
            else { throw APIError.notFound("allocation \(id)") }
            let jobID = parts.dropLast(2).joined(separator: ".")
            guard let job = await scheduler.job(jobID) else { throw APIError.notFound("allocation \(id)") }
            if case .tenant(let tenant) = who, tenant != job.spec.tenant {
                throw APIError.forbidden("allocation \(id) belongs to another tenant")
            }
            guard let task = await scheduler.tasks(of: jobID).first(where: { $0.id.index == index }),
                attempt >= 1, attempt <= task.machine.attempt
            else { throw APIError.notFound("allocation \(id)") }
            guard attempt == task.machine.attempt, let node = task.machine.lastNode else {
                throw APIError(
                    status: 404, code: "not_found",
                    message: "allocation \(id): the scheduler knows the node of attempt \(task.machine.attempt) only")
            }
            guard let address = await scheduler.nodes.first(where: { $0.id == node })?.info["address"] else {
                throw APIError(
                    status: 409, code: "logs_unavailable",
                    message: "node \(node) does not serve logs: start its agent with --listen HOST:PORT")
            }
            let offset = request.uri.queryParameters.get("offset").flatMap { UInt64($0) } ?? 0
            return try await relayLogs(
                from: address, node: node, path: "/v1/allocations/\(id)/logs/\(stream)?offset=\(offset)")
        }
    }

    func relayLogs(from address: String, node: String, path: String) async throws -> Response {
        var upstream = HTTPClientRequest(url: address + path)
        upstream.headers.add(name: "Authorization", value: "Bearer \(config.agentToken)")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(upstream, timeout: .seconds(10))
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw APIError(status: 502, code: "agent_unreachable", message: "node \(node) at \(address): \(error)")
        }
        guard response.status == .ok else {
            if let error = APIError.decoded(status: response.status.code, from: Data(body.readableBytesView)) {
                throw error
            }
            throw APIError(status: 502, code: "agent_error", message: "node \(node) answered \(response.status.code)")
        }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        for name in [LogHeaders.offset, LogHeaders.running] {
            headers[name] = response.headers.first(name: name.rawName)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
