import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// etcd's v3 JSON gateway (`/v3/...`, etcd 3.4+) over AsyncHTTPClient: the request and response shapes
/// as the gateway really has them (../shared/reference/etcd-v3-gateway.md): keys and values base64,
/// int64 fields as strings, zero values left out. Requests go to one endpoint at a time; one that cannot
/// be connected to is left for the next, and a request that may have reached etcd is never sent twice.
final class EtcdGateway: Sendable {
    let endpoints: [String]
    let client: HTTPClient
    let timeout: TimeAmount
    private let current = Mutex(0)

    /// Connects within a second: an unreachable member is passed over quickly, not after the default 10 s.
    static let sharedClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(1))))

    init(endpoints: [String], client: HTTPClient, timeout: TimeAmount = .seconds(5)) {
        self.endpoints = endpoints
        self.client = client
        self.timeout = timeout
    }

    /// POSTs `body` to `path` and decodes the answer; etcd's errors become `StoreError`s.
    func call<Response: Decodable>(_ path: String, _ body: [String: Any], as: Response.Type) async throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: body)
        var lastError: any Error = StoreError.unavailable("no etcd endpoint")
        let first = current.withLock { $0 }
        for attempt in 0..<endpoints.count {
            let index = (first + attempt) % endpoints.count
            let endpoint = endpoints[index]
            let request = Self.post(endpoint + path, data)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: timeout)
            } catch {
                lastError = StoreError.unavailable("etcd \(endpoint): \(error)")
                guard Self.neverSent(error) else { throw lastError }
                current.withLock { $0 = (index + 1) % endpoints.count }
                continue
            }
            let bytes = try await response.body.collect(upTo: 64 << 20)
            let decoder = JSONDecoder()
            guard response.status == .ok else {
                let failure = try? decoder.decode(ErrorBody.self, from: Data(bytes.readableBytesView))
                throw Self.storeError(status: Int(response.status.code), failure)
            }
            return try decoder.decode(Response.self, from: Data(bytes.readableBytesView))
        }
        throw lastError
    }

    /// A streaming POST (watch): each newline-terminated JSON message of the body, decoded, until it ends.
    func stream<Message: Decodable & Sendable>(
        _ path: String, _ data: Data, as: Message.Type
    ) async throws -> AsyncThrowingStream<Message, any Error> {
        let request = Self.post(endpoints[current.withLock { $0 }] + path, data)
        let response: HTTPClientResponse
        do { response = try await client.execute(request, deadline: .distantFuture) } catch {
            current.withLock { $0 = ($0 + 1) % endpoints.count }
            throw StoreError.unavailable("etcd watch: \(error)")
        }
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            throw Self.storeError(
                status: Int(response.status.code),
                try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes.readableBytesView)))
        }
        let body = response.body
        return AsyncThrowingStream { continuation in
            let reader = Task {
                var pending: [UInt8] = []
                do {
                    for try await chunk in body {
                        pending += chunk.readableBytesView
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = pending[..<newline]
                            pending.removeSubrange(...newline)
                            guard !line.isEmpty else { continue }
                            continuation.yield(try JSONDecoder().decode(Message.self, from: Data(line)))
                        }
                        // One message is far below this; a stream that grows past it is not etcd's.
                        if pending.count > 64 << 20 { throw StoreError.unavailable("etcd watch: message too large") }
                    }
                    continuation.finish(throwing: StoreError.unavailable("etcd watch stream ended"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    /// A JSON POST of `data` to `url`.
    static func post(_ url: String, _ data: Data) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: data))
        return request
    }

    /// Errors raised before a byte of the request left: the next endpoint may take it.
    static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        let text = String(describing: error)
        return text.contains("connectTimeout") || text.contains("Connection refused")
    }

    static func storeError(status: Int, _ failure: ErrorBody?) -> StoreError {
        let message = failure?.message ?? failure?.error ?? "HTTP \(status)"
        switch failure?.code {
        case 8: return .quotaExceeded  // RESOURCE_EXHAUSTED: mvcc: database space exceeded
        default: return .unavailable("etcd: \(message)")
        }
    }

    // MARK: - Wire shapes (every field optional: the gateway leaves out zero values)

    struct ErrorBody: Decodable {
        var error: String?
        var message: String?
        var code: Int?
    }

    struct Header: Decodable {
        var revision: String?
        var rev: Revision { Revision(Int64(revision ?? "") ?? 0) }
    }

    struct KV: Decodable, Sendable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var version: String?
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KV]?
        var more: Bool?
    }

    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
    }

    struct Empty: Decodable {}

    struct LeaseResponse: Decodable {
        var ID: String?
        var TTL: String?
    }

    struct KeepAliveResponse: Decodable {
        var result: LeaseResponse?
    }

    struct WatchMessage: Decodable, Sendable {
        var result: WatchResult?
    }

    struct WatchResult: Decodable, Sendable {
        var created: Bool?
        var canceled: Bool?
        var compact_revision: String?
        var cancel_reason: String?
        var events: [Event]?
    }

    struct Event: Decodable, Sendable {
        var type: String?
        var kv: KV?
    }
}
