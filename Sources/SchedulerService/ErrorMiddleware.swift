import CorralProtocol
import Hummingbird
import Logging
import Scheduler
import Store

/// Turns `APIError`s (and anything unexpected) into JSON responses.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SchedulerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch SchedulerError.shuttingDown {
            return APIError(status: 503, code: "shutting_down", message: "the scheduler is shutting down").response()
        } catch StoreError.notLeader {
            return APIError(
                status: 503, code: "not_leader", message: "this scheduler just lost the lead: ask the next one"
            ).response()
        } catch StoreError.unavailable(let why) {
            context.logger.error("store unavailable", metadata: ["path": "\(request.uri.path)", "error": "\(why)"])
            return APIError(
                status: 503, code: "store_unavailable", message: "the state store cannot be reached: retry shortly"
            ).response()
        } catch StoreError.quotaExceeded {
            return APIError(
                status: 507, code: "store_full",
                message: "the state store is at its space quota: an operator compacts or raises it"
            ).response()
        } catch SchedulerError.conflict(let why) {
            return APIError(status: 409, code: "conflict", message: "\(why): retry").response()
        } catch SchedulerError.nodeClaimed(let node) {
            return APIError(
                status: 409, code: "node_registered",
                message:
                    "node \(node) is registered with another credential: its agent presents the credential kept in "
                    + "its data directory (node-credential), or an admin runs `corral node forget \(node)` first"
            ).response()
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
            // What went wrong inside stays in the log; the client gets an id to quote.
            let id = String(Secrets.random().prefix(12))
            context.logger.error(
                "request failed", metadata: ["id": "\(id)", "path": "\(request.uri.path)", "error": "\(error)"])
            return APIError(
                status: 500, code: "internal", message: "internal error \(id): the scheduler's log has the details"
            ).response()
        }
    }
}
