import CorralModel
import Foundation

/// An API error: JSON `{"error": {"code", "message", "problems"?}}` with a stable code.
public struct APIError: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var problems: [Problem]?

    public struct Problem: Sendable, Codable, Equatable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public init(status: Int, code: String, message: String, problems: [Problem]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.problems = problems
    }

    public var description: String {
        ([message] + (problems ?? []).map { "\($0.field): \($0.message)" }).joined(separator: "\n  ")
    }

    public static func unauthorized() -> APIError {
        APIError(status: 401, code: "unauthorized", message: "missing or unknown bearer token")
    }
    public static func forbidden(_ why: String) -> APIError { APIError(status: 403, code: "forbidden", message: why) }
    public static func notFound(_ what: String) -> APIError {
        APIError(status: 404, code: "not_found", message: "\(what) not found")
    }

    /// The body of the HTTP answer that carries this error: `{"error": …}`.
    public var body: [UInt8] { (try? Array(JSONEncoder.api.encode(Envelope(error: self)))) ?? [] }

    public static func badRequest(_ message: String, problems: [ValueError] = []) -> APIError {
        APIError(
            status: 400, code: "invalid_request", message: message,
            problems: problems.isEmpty ? nil : problems.map { Problem(field: $0.field, message: $0.message) })
    }

    /// The body of every failed answer.
    public struct Envelope: Codable, Sendable {
        public var error: APIError
        public init(error: APIError) { self.error = error }
    }

    /// The error a failed answer of ours carries (`{"error": …}`), with its HTTP status; nil for a body
    /// that is not one.
    public static func decoded(status: UInt, from data: Data) -> APIError? {
        guard var error = try? JSONDecoder().decode(Envelope.self, from: data).error else { return nil }
        error.status = Int(status)
        return error
    }

    enum CodingKeys: String, CodingKey { case code, message, problems }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = 0
        code = try c.decode(String.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
        problems = try c.decodeIfPresent([Problem].self, forKey: .problems)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(problems, forKey: .problems)
    }
}
