import CorralModel
import CorralProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Reports

extension SchedulerAPI {
    /// `GET /v1/reports/capacity?since=14d&horizon=7d&format=html|json|md&shape=1,2GiB`: the capacity
    /// report, for admins (it shows every tenant and node).
    func addReportRoutes(_ router: Router<SchedulerRequestContext>) {
        router.get("/v1/reports/capacity") { request, context in
            try context.require([.admin])
            let query = request.uri.queryParameters
            let formatText = query.get("format") ?? "json"
            guard let format = CapacityReport.Format(rawValue: formatText) else {
                let message = "must be one of html, json, md"
                throw APIError.badRequest(
                    "format: \(message)", problems: [ValueError(field: "format", message: message)])
            }
            let options: CapacityReportOptions
            do {
                options = try CapacityReportOptions.parse(
                    since: query.get("since"), horizon: query.get("horizon"),
                    shapes: query.getAll("shape").map { String($0) })
            } catch let error as ValueError {
                throw APIError.badRequest(error.description, problems: [error])
            }
            let report = try await CapacityReport.build(scheduler: scheduler, options: options)
            return Response(
                status: .ok, headers: [.contentType: format.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: try report.rendered(format))))
        }
    }
}
