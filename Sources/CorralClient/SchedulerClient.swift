import AsyncHTTPClient
import CorralModel
import CorralProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// The typed client of the scheduler's API, used by the CLI and the agent. It knows every scheduler of
/// a highly available cluster (`A,B,C`): it follows a follower's redirect to the leader, and moves on to
/// the next address when one cannot be reached or has no leader to name.
public struct SchedulerClient: Sendable {
    let schedulers: SchedulerAddresses
    public let token: String
    let http: HTTPClient

    /// The scheduler the client talks to now (the leader, once one has been found).
    public var baseURL: String { schedulers.current }

    /// `baseURL`: one scheduler's URL, or several separated by commas.
    public init(baseURL: String, token: String, http: HTTPClient = SchedulerClient.plainHTTP) {
        schedulers = SchedulerAddresses(baseURL)
        self.token = token
        self.http = http
    }

    /// A client verifying the scheduler with `tls` (nil: plain HTTP, or HTTPS against the system's roots).
    public init(baseURL: String, token: String, tls: ClientTLS?) throws {
        self.init(baseURL: baseURL, token: token, http: try tls.map { try $0.httpClient() } ?? Self.plainHTTP)
    }

    public func submit(_ body: Data) async throws -> JobView { try await call(.POST, "/v1/jobs", body: body) }
    public func job(_ id: String) async throws -> JobView { try await call(.GET, "/v1/jobs/\(Self.segment(id))") }
    public func jobs() async throws -> [JobView] { try await call(.GET, "/v1/jobs") }
    public func cancel(_ id: String) async throws -> JobView {
        try await call(.DELETE, "/v1/jobs/\(Self.segment(id))")
    }
    /// `POST /v1/jobs/{id}/scale`: a service job's new count.
    public func scale(_ id: String, count: Int) async throws -> JobView {
        try await call(.POST, "/v1/jobs/\(Self.segment(id))/scale", body: Data("{\"count\": \(count)}".utf8))
    }
    public func submit(workflow body: Data) async throws -> WorkflowView {
        try await call(.POST, "/v1/workflows", body: body)
    }
    /// The jobs connected to a job by edges, and the edges.
    public func graph(_ id: String) async throws -> JobGraphView {
        try await call(.GET, "/v1/jobs/\(Self.segment(id))/graph")
    }
    /// A schedule's runs, oldest fire first.
    public func runs(_ id: String) async throws -> [JobView] {
        try await call(.GET, "/v1/jobs/\(Self.segment(id))/runs")
    }
    /// Pauses (true) or resumes a schedule.
    public func pause(_ id: String, _ paused: Bool) async throws -> JobView {
        try await call(.POST, "/v1/jobs/\(Self.segment(id))/\(paused ? "pause" : "resume")")
    }
    public func tasks(_ id: String) async throws -> [TaskView] {
        try await call(.GET, "/v1/jobs/\(Self.segment(id))/tasks")
    }
    public func nodes() async throws -> [NodeStatus] { try await call(.GET, "/v1/nodes") }
    /// `GET /v1/leader` of the scheduler this client talks to now: its role and the leader it knows.
    public func leader(timeout: TimeAmount = .seconds(30)) async throws -> LeaderView {
        try await call(.GET, "/v1/leader", timeout: timeout)
    }
    public func forget(node: String) async throws -> NodeForgotten {
        try await call(.DELETE, "/v1/nodes/\(Self.segment(node))")
    }
    /// Drains a node: evicting what is left after `deadline` seconds (nil: waiting for its tasks to end).
    public func drain(node: String, deadline: Double?) async throws -> NodeStatus {
        try await call(
            .POST, "/v1/nodes/\(Self.segment(node))/drain",
            body: try JSONEncoder().encode(DrainRequest(deadlineSeconds: deadline)))
    }
    public func undrain(node: String) async throws -> NodeStatus {
        try await call(.POST, "/v1/nodes/\(Self.segment(node))/undrain")
    }
    /// The alerts firing now (admin).
    public func alerts() async throws -> [AlertNotification] { try await call(.GET, "/v1/alerts") }
    public func quota(tenant: String) async throws -> QuotaStatus {
        try await call(.GET, "/v1/tenants/\(Self.segment(tenant))/quota")
    }

    /// A task's output from `offset` on (relayed from its agent), the offset to ask for next, and whether the
    /// allocation still runs.
    public func logs(allocation: AllocationID, stream: String, offset: UInt64) async throws -> (
        bytes: Data, next: UInt64, running: Bool
    ) {
        let (response, bytes) = try await exchange(
            .GET, LogRelay.path(allocation, stream: Self.segment(stream), offset: offset))
        guard response.status == .ok else {
            throw Self.error(status: response.status.code, Data(bytes.readableBytesView))
        }
        let next = response.headers.first(name: LogRelay.offsetHeader).flatMap { UInt64($0) } ?? offset
        return (Data(bytes.readableBytesView), next, response.headers.first(name: LogRelay.runningHeader) == "true")
    }

    /// What is at `path` in an allocation's work directory (relayed from its agent): a directory's listing,
    /// or up to `limit` bytes of a file from `offset` with the file's size and the offset to ask for next.
    public func files(allocation: AllocationID, path: String, offset: UInt64 = 0, limit: Int? = nil) async throws
        -> WorkFile
    {
        let (response, bytes) = try await exchange(
            .GET, WorkFiles.path(allocation, path: path, offset: offset, limit: limit))
        let data = Data(bytes.readableBytesView)
        guard response.status == .ok else { throw Self.error(status: response.status.code, data) }
        if response.headers.first(name: "Content-Type") == "application/json" {
            return .directory(try JSONDecoder().decode(FileListing.self, from: data))
        }
        let size = response.headers.first(name: WorkFiles.sizeHeader).flatMap { UInt64($0) } ?? 0
        let next = response.headers.first(name: WorkFiles.offsetHeader).flatMap { UInt64($0) } ?? offset
        return .file(data, size: size, next: next)
    }

    /// `GET /metrics`: Prometheus text.
    public func metrics() async throws -> String { try await text("/metrics") }

    /// `GET /v1/reports/capacity`: the report rendered by the scheduler, in `format` (html, json, md).
    public func capacityReport(since: String?, horizon: String?, format: String, shapes: [String]) async throws
        -> String
    {
        let query =
            [("format", format)]
            + [("since", since), ("horizon", horizon)].compactMap { name, value in
                value.map { (name, $0) }
            } + shapes.map { ("shape", $0) }
        let encoded = query.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)"
        }
        return try await text("/v1/reports/capacity?" + encoded.joined(separator: "&"), timeout: .minutes(10))
    }

    /// A route answering text; API errors as `APIError`.
    func text(_ path: String, timeout: TimeAmount = .seconds(30)) async throws -> String {
        let (response, bytes) = try await exchange(.GET, path, timeout: timeout, limit: 256 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw Self.error(status: response.status.code, Data(bytes.readableBytesView))
        }
        return String(decoding: bytes.readableBytesView, as: UTF8.self)
    }

    // The agent's side of the protocol.
    public func register(_ registration: Registration) async throws -> AgentOrders {
        try await call(.POST, "/v1/agents/register", body: JSONEncoder().encode(registration))
    }
    public func heartbeat(node: NodeID, _ beat: Heartbeat) async throws -> AgentOrders {
        try await call(.POST, "/v1/agents/\(node)/heartbeat", body: JSONEncoder().encode(beat))
    }
    /// Waits up to `wait` seconds for new allocations or kills.
    public func poll(node: NodeID, wait: Double) async throws -> AgentOrders {
        try await call(.GET, "/v1/agents/\(node)/allocations?wait=\(wait)", timeout: .seconds(Int64(wait) + 15))
    }

    /// Hands the scheduler a snapshot of an allocation's checkpoint directory (an opaque archive).
    public func putCheckpoint(node: NodeID, allocation: AllocationID, _ archive: [UInt8]) async throws {
        let (response, bytes) = try await exchange(
            .PUT, "/v1/agents/\(node)/checkpoints/\(allocation)", body: Data(archive), timeout: .seconds(120))
        guard (200..<300).contains(response.status.code) else {
            throw Self.error(status: response.status.code, Data(bytes.readableBytesView))
        }
    }

    /// The latest checkpoint of the allocation's task, for its attempt to start from; nil when it has none.
    public func checkpoint(node: NodeID, allocation: AllocationID) async throws -> [UInt8]? {
        let (response, bytes) = try await exchange(
            .GET, "/v1/agents/\(node)/checkpoints/\(allocation)", timeout: .seconds(120),
            limit: Int(JobSpec.maxCheckpointLimit) + 4096)
        guard (200..<300).contains(response.status.code) else {
            let error = Self.error(status: response.status.code, Data(bytes.readableBytesView))
            if error.code == "no_checkpoint" { return nil }
            throw error
        }
        return Array(bytes.readableBytesView)
    }

    func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, timeout: TimeAmount = .seconds(30)
    ) async throws -> T {
        let (response, bytes) = try await exchange(method, path, body: body, timeout: timeout)
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(response.status.code) else { throw Self.error(status: response.status.code, data) }
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// The API's JSON error from a failed answer, or one made from its status and text.
    static func error(status: UInt, _ data: Data) -> APIError {
        APIError.decoded(status: status, from: data)
            ?? APIError(status: Int(status), code: "http_\(status)", message: String(decoding: data, as: UTF8.self))
    }
}

extension SchedulerClient {
    /// A path segment as typed by a user, percent-encoded so that it stays one segment.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#")))
            ?? text
    }
}

/// What `SchedulerClient.files` found.
public enum WorkFile: Sendable {
    case directory(FileListing)
    case file(Data, size: UInt64, next: UInt64)
}
