import CorralClient
import CorralProtocol
import CorralTLS
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore

/// The agent's own HTTP endpoint on `--listen`: `/metrics` (counts only, no token), and its tasks' log files and
/// work directories for the scheduler
/// to relay. Only
/// the relay token of the node's registration is accepted (no request is served before the node is
/// registered); tenants reach logs through the scheduler, which checks whose job it is.
enum AgentServer {
    static func application(agent: Agent, listen: String, logger: Logger) throws -> some ApplicationProtocol {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw AgentError.configuration("--listen: \"\(listen)\" is not HOST:PORT")
        }
        let host = String(listen[..<colon])
        var server: HTTPServerBuilder = .http1()
        if let tls = agent.configuration.tls, let certificate = tls.certificate, let key = tls.key {
            // The node's certificate: the scheduler verifies it against the agents' CA.
            server = try .tls(
                .http1(), tlsConfiguration: TLSSettings.server(certificate: certificate, key: key, clientCA: nil))
        }
        return Application(
            router: router(agent: agent), server: server, configuration: .init(address: .hostname(host, port: port)),
            logger: logger)
    }

    static func router(agent: Agent) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        // Counts only (no tenant, job or allocation names): served without a token, as Prometheus scrapes.
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: await agent.metricsText())))
        }
        router.get("/v1/allocations/:id/fs") { request, context -> Response in
            guard await relayed(request, agent) else { return response(APIError.unauthorized()) }
            let text = try context.parameters.require("id")
            guard let id = AllocationID(text), await agent.mayReadWork(id) else {
                return response(
                    APIError.notFound("work directory of \(text) on this node (ended beyond its retention?)"))
            }
            let query = request.uri.queryParameters
            let path = query.get("path") ?? ""
            let offset = query.get("offset").flatMap { UInt64($0) } ?? 0
            let limit = min(query.get("limit").flatMap { Int($0) } ?? WorkFiles.defaultLimit, WorkFiles.maxLimit)
            let reader = WorkFileReader(root: await agent.workDirectory(id))
            do {
                switch try reader.read(path, offset: offset, limit: max(limit, 0)) {
                case .directory(let entries):
                    let listing = FileListing(path: path, entries: entries, running: await agent.isRunning(id))
                    return Response(
                        status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(listing))))
                case .file(let bytes, let size, let next):
                    return Response(
                        status: .ok,
                        headers: [
                            .contentType: "application/octet-stream",
                            HTTPField.Name(WorkFiles.sizeHeader)!: String(size),
                            HTTPField.Name(WorkFiles.offsetHeader)!: String(next),
                        ],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
                }
            } catch let error as APIError {
                return response(error)
            }
        }
        router.get("/v1/allocations/:id/logs/:stream") { request, context -> Response in
            guard await relayed(request, agent) else { return response(APIError.unauthorized()) }
            let text = try context.parameters.require("id")
            let stream = try context.parameters.require("stream")
            guard let id = AllocationID(text), LogRelay.streams.contains(stream),
                case let logs = TaskLogs(root: agent.configuration.logsDir, allocation: id), logs.exists
            else {
                return response(APIError.notFound("logs of \(text)/\(stream) on this node"))
            }
            let offset = request.uri.queryParameters.get("offset").flatMap { UInt64($0) } ?? 0
            let running = await agent.isRunning(id)
            let (bytes, next) = logs.read(stream, from: offset)
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream", HTTPField.Name(LogRelay.offsetHeader)!: String(next),
                    HTTPField.Name(LogRelay.runningHeader)!: String(running),
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return router
    }

    /// Whether the request carries the relay token of the node's registration.
    static func relayed(_ request: Request, _ agent: Agent) async -> Bool {
        guard let token = await agent.relayToken, let presented = request.headers[.authorization] else { return false }
        return Secrets.equal(presented, "Bearer " + token)
    }

    static func response(_ error: APIError) -> Response {
        Response(
            status: HTTPResponse.Status(code: error.status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.body)))
    }
}
