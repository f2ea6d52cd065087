import API
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The agent's own HTTP endpoint on `--listen`: its tasks' log files, for the scheduler to relay. Only
/// the agent token is accepted; tenants reach logs through the scheduler, which checks whose job it is.
enum AgentServer {
    static func application(agent: Agent, listen: String, logger: Logger) throws -> some ApplicationProtocol {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw AgentError.configuration("--listen: \"\(listen)\" is not HOST:PORT")
        }
        let host = String(listen[..<colon])
        return Application(
            router: router(agent: agent), configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }

    static func router(agent: Agent) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let token = agent.configuration.token
        router.get("/v1/allocations/:id/logs/:stream") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(token)" else {
                return APIError.unauthorized().response()
            }
            let id = try context.parameters.require("id")
            let stream = try context.parameters.require("stream")
            let logs = TaskLogs(root: agent.configuration.logsDir, allocation: id)
            guard LogHeaders.streams.contains(stream), id != ".", id != "..", logs.exists else {
                return APIError.notFound("logs of \(id)/\(stream) on this node").response()
            }
            let offset = request.uri.queryParameters.get("offset").flatMap { UInt64($0) } ?? 0
            let running = await agent.isRunning(id)
            let (bytes, next) = logs.read(stream, from: offset)
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream", LogHeaders.offset: String(next),
                    LogHeaders.running: String(running),
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return router
    }
}
