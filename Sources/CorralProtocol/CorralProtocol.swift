/// CorralProtocol: every type that crosses a process boundary between the CLI, the agents and the
/// scheduler, and nothing that acts on them. Identifiers (`JobID`, `TaskID`, `AllocationID`, `NodeID`)
/// each have one format and one parser; messages (registration, heartbeat, orders, allocation reports,
/// node status, job and task views, API errors, log-relay headers) are Codable values whose JSON is the
/// wire format (docs/api.md, `GET /v1/openapi.json`). Imports CorralModel only: no HTTP server or client,
/// no store, no scheduler.
import CorralModel
import Foundation

extension JSONEncoder {
    /// The encoder of every API body: keys sorted, so that equal values are equal bytes.
    public static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
