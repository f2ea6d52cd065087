import AsyncHTTPClient
import Foundation

/// The `StateStore` on etcd 3.4+ through its v3 JSON gateway, for schedulers that run highly available.
/// Every key lives under `prefix`; every `txn` is one etcd transaction, so what the SQLite store
/// guarantees (atomic, durable once returned) holds here too, with etcd's revisions as ours.
public final class EtcdStore: StateStore {
    let gateway: EtcdGateway
    let prefix: String
    public let limits: TransactionLimits
    /// Keys one range request returns at most (`list` reads on until it has them all).
    let page: Int

    /// `endpoints`: `http://HOST:PORT` (or https) of etcd members, tried in turn when one cannot be
    /// reached. `client` nil: one that connects within a second, so an unreachable member is passed over
    /// quickly. `limits`: etcd's `--max-txn-ops` and, with room to spare, its `--max-request-bytes`.
    public init(
        endpoints: [String], prefix: String = "/corral/", client: HTTPClient? = nil,
        limits: TransactionLimits = TransactionLimits(operations: 128, bytes: 1 << 20), page: Int = 1000
    ) {
        self.page = page
        precondition(!endpoints.isEmpty, "at least one etcd endpoint")
        gateway = EtcdGateway(
            endpoints: endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            client: client ?? EtcdGateway.sharedClient)
        self.prefix = prefix
        self.limits = limits
    }

    public func get(_ key: String) async throws -> KeyValue? {
        let response = try await gateway.call(
            "/v3/kv/range", ["key": encode(prefix + key)], as: EtcdGateway.RangeResponse.self)
        return try response.kvs?.first.map(keyValue)
    }

    /// Keys under a prefix, read in pages of `page` keys at the revision of the first page, so that a
    /// large listing (a new leader loading every task) is one consistent view without one huge answer.
    public func list(prefix listed: String, limit: Int?) async throws -> (items: [KeyValue], revision: Revision) {
        if limit == 0 { return ([], try await list(prefix: listed, limit: 1).revision) }  // etcd reads 0 as none
        var items: [KeyValue] = []
        var start = Array((prefix + listed).utf8)
        var revision: Revision?
        while true {
            let want = min(page, (limit ?? .max) - items.count)
            var body: [String: Any] = [
                "key": Data(start).base64EncodedString(), "range_end": Self.rangeEnd(Array((prefix + listed).utf8)),
                "limit": String(want),
            ]
            if let revision { body["revision"] = String(revision.raw) }
            let response = try await gateway.call("/v3/kv/range", body, as: EtcdGateway.RangeResponse.self)
            let kvs = response.kvs ?? []
            items += try kvs.map(keyValue)
            revision = revision ?? response.header?.rev ?? .zero
            guard response.more == true, let last = kvs.last, items.count < (limit ?? .max) else { break }
            // The next page starts right after the last key: the key with a zero byte appended.
            start = Array(Data(base64Encoded: last.key ?? "") ?? Data()) + [0]
        }
        return (items, revision ?? .zero)
    }

    public func txn(if compares: [Compare], then: [Op], else otherwise: [Op]) async throws -> TxnResult {
        let body: [String: Any] = [
            "compare": compares.map(compare), "success": then.map(request), "failure": otherwise.map(request),
        ]
        let response = try await gateway.call("/v3/kv/txn", body, as: EtcdGateway.TxnResponse.self)
        return TxnResult(succeeded: response.succeeded ?? false, revision: response.header?.rev ?? .zero)
    }

    public func watch(prefix watched: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error> {
        let full = prefix + watched
        let request: [String: Any] = [
            "create_request": [
                "key": encode(full), "range_end": Self.rangeEnd(Array(full.utf8)),
                "start_revision": String(after.raw + 1),
            ]
        ]
        let body = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        return AsyncThrowingStream { continuation in
            let pump = Task {
                do {
                    let messages = try await gateway.stream("/v3/watch", body, as: EtcdGateway.WatchMessage.self)
                    for try await message in messages {
                        guard let result = message.result else { continue }
                        if result.canceled == true {
                            let compacted = Int64(result.compact_revision ?? "") ?? 0
                            throw compacted > 0
                                ? StoreError.compacted(Revision(compacted))
                                : StoreError.unavailable("etcd cancelled the watch: \(result.cancel_reason ?? "")")
                        }
                        // One message may carry several transactions: a batch per revision, as the protocol says.
                        var batch: [WatchEvent] = []
                        var batchRevision: Int64?
                        for event in result.events ?? [] {
                            guard let kv = event.kv else { continue }
                            let revision = Int64(kv.mod_revision ?? "") ?? 0
                            if let current = batchRevision, current != revision, !batch.isEmpty {
                                continuation.yield(batch)
                                batch = []
                            }
                            batchRevision = revision
                            batch.append(try self.event(event.type, kv))
                        }
                        if !batch.isEmpty { continuation.yield(batch) }
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in pump.cancel() }
        }
    }

    /// etcd keeps history from the compaction revision on; ours drops `upTo` itself, so etcd compacts at
    /// the revision after it (no further than the store's own).
    public func compact(upTo revision: Revision) async throws {
        let current = try await list(prefix: "\u{0}", limit: 1).revision
        let target = min(revision.raw + 1, current.raw)
        guard target > 0 else { return }
        do {
            _ = try await gateway.call(
                "/v3/kv/compaction", ["revision": String(target), "physical": true], as: EtcdGateway.Empty.self)
        } catch StoreError.unavailable(let why) where why.contains("compacted") {
            return  // already compacted that far
        }
    }

    // MARK: - Mapping

    func compare(_ compare: Compare) -> [String: Any] {
        switch compare {
        case .absent(let key):
            ["target": "CREATE", "result": "EQUAL", "key": encode(prefix + key), "create_revision": "0"]
        case .modRevision(let key, let revision):
            ["target": "MOD", "result": "EQUAL", "key": encode(prefix + key), "mod_revision": String(revision.raw)]
        case .createRevision(let key, let revision):
            [
                "target": "CREATE", "result": "EQUAL", "key": encode(prefix + key),
                "create_revision": String(revision.raw),
            ]
        case .value(let key, let value):
            [
                "target": "VALUE", "result": "EQUAL", "key": encode(prefix + key),
                "value": Data(value).base64EncodedString(),
            ]
        }
    }

    func request(_ op: Op) -> [String: Any] {
        switch op {
        case .put(let key, let value):
            ["request_put": ["key": encode(prefix + key), "value": Data(value).base64EncodedString()]]
        case .delete(let key):
            ["request_delete_range": ["key": encode(prefix + key)]]
        case .deletePrefix(let deleted):
            [
                "request_delete_range": [
                    "key": encode(prefix + deleted), "range_end": Self.rangeEnd(Array((prefix + deleted).utf8)),
                ]
            ]
        }
    }

    func keyValue(_ kv: EtcdGateway.KV) throws -> KeyValue {
        KeyValue(
            key: try key(kv.key), value: try bytes(kv.value),
            createRevision: Revision(Int64(kv.create_revision ?? "") ?? 0),
            modRevision: Revision(Int64(kv.mod_revision ?? "") ?? 0), version: Int64(kv.version ?? "") ?? 0)
    }

    func event(_ type: String?, _ kv: EtcdGateway.KV) throws -> WatchEvent {
        if type == "DELETE" {
            return .delete(key: try key(kv.key), modRevision: Revision(Int64(kv.mod_revision ?? "") ?? 0))
        }
        return .put(try keyValue(kv))
    }

    /// A stored key without our prefix; one outside it is not ours to report.
    func key(_ encoded: String?) throws -> String {
        let full = String(decoding: try bytes(encoded), as: UTF8.self)
        guard full.hasPrefix(prefix) else { throw StoreError.unavailable("etcd returned a key outside \(prefix)") }
        return String(full.dropFirst(prefix.count))
    }

    func bytes(_ encoded: String?) throws -> [UInt8] {
        guard let encoded else { return [] }
        guard let data = Data(base64Encoded: encoded) else { throw StoreError.unavailable("etcd sent bad base64") }
        return [UInt8](data)
    }

    func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// etcd's range end for a prefix: the prefix with its last byte incremented (bytes past 0xff carried).
    static func rangeEnd(_ prefix: [UInt8]) -> String {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return Data(end).base64EncodedString()
            }
            end.removeLast()
        }
        return Data([0]).base64EncodedString()  // every key
    }
}
