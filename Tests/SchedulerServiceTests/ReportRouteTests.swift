import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Hummingbird
import HummingbirdTesting
import SchedulerService
import TestSupport
import Testing

/// `GET /v1/reports/capacity`: admins only, each format with its content type, errors naming the field.
@Suite struct ReportRouteTests {
    static let admin = RouterTests.auth("admin-token-0123456789")

    @Test func onlyAdminsReadTheCapacityReport() async throws {
        try await RouterTests.app().test(.router) { client in
            for token in ["acme-token-0123456789", "agent-token-0123456789"] {
                try await client.execute(
                    uri: "/v1/reports/capacity", method: .get, headers: RouterTests.auth(token)
                ) { response in
                    #expect(response.status == .forbidden, "\(token)")
                    #expect(RouterTests.errorCode(response) == "forbidden")
                }
            }
            try await client.execute(uri: "/v1/reports/capacity", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func eachFormatWithItsContentType() async throws {
        try await RouterTests.app().test(.router) { client in
            let expected = ["json": "application/json", "html": "text/html", "md": "text/markdown"]
            for (format, type) in expected {
                try await client.execute(
                    uri: "/v1/reports/capacity?format=\(format)&since=1h&horizon=10m&shape=500m,256MiB", method: .get,
                    headers: Self.admin
                ) { response in
                    #expect(response.status == .ok, "\(format)")
                    #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(format)")
                    let body = String(buffer: response.body)
                    switch format {
                    case "json":
                        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                        #expect(object?["schemaVersion"] as? Int == 1)
                        #expect(object?["horizonSeconds"] as? Double == 600)
                        let headroom = object?["headroom"] as? [[String: Any]]
                        #expect(headroom?.first?["cpu"] as? Double == 0.5, "the shape asked for")
                    case "html": #expect(body.hasPrefix("<!doctype html>"))
                    default: #expect(body.hasPrefix("# Corral capacity report"))
                    }
                }
            }
        }
    }

    @Test func badParametersNameTheirField() async throws {
        try await RouterTests.app().test(.router) { client in
            for (query, field) in [
                ("format=pdf", "format"), ("since=soon", "since"), ("horizon=5s", "horizon"),
                ("shape=2", "shape"),
            ] {
                try await client.execute(uri: "/v1/reports/capacity?\(query)", method: .get, headers: Self.admin) {
                    response in
                    #expect(response.status == .badRequest, "\(query)")
                    let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                    let error = (object as? [String: Any])?["error"] as? [String: Any]
                    let problems = error?["problems"] as? [[String: Any]]
                    #expect(problems?.first?["field"] as? String == field, "\(query): \(String(describing: error))")
                }
            }
        }
    }
}
