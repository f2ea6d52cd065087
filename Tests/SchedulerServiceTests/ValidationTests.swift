import CorralModel
import CorralProtocol
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Scheduler
import SchedulerService
import Store
import TestSupport
import Testing

/// Issue 20, item 3: numbers from an agent or a tenant are range-checked before anything is stored or
/// added up, a stored record that fails the checks is skipped when the scheduler loads its state, and texts
/// that a process cannot carry (NUL) are refused at submission.
@Suite(.timeLimit(.minutes(1)))
struct ValidationTests {
    static func scheduler(store: any StateStore) -> Scheduler {
        Scheduler(
            store: store, history: nil, configuration: SchedulerCore.Configuration(quotas: RouterTests.config.quotas),
            logger: Logger(label: "test"))
    }

    static func problems(_ response: TestResponse) -> [String] {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        let error = object?["error"] as? [String: Any] ?? object ?? [:]
        return (error["problems"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }

    /// The registration of the issue: I/O capacities whose sum overflows Int64 trapped the scheduler, and
    /// again on every restart, because the record was stored before it was applied.
    @Test func anOverflowingRegistrationIsA400ThatIsNeverStoredAndTheSchedulerLivesOn() async throws {
        let store = try SQLiteStore(path: nil)
        let scheduler = Self.scheduler(store: store)
        try await scheduler.start()
        let app = Application(router: SchedulerAPI(scheduler: scheduler, config: RouterTests.config).router())
        let bad = [
            (#""ioRead": 1, "ioWrite": 9223372036854775807"#, "capacity.ioWrite"),
            (#""ioRead": -1, "ioWrite": 0"#, "capacity.ioRead"),
        ]
        try await app.test(.router) { client in
            for (io, field) in bad {
                let body =
                    #"{"node": "evil", "capacity": {"cpuMillis": 4000, "memory": 4294967296, "#
                    + io + #", "pids": 0}}"#
                try await client.execute(
                    uri: "/v1/agents/register", method: .post, headers: RouterTests.bootstrap,
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(Self.problems(response).contains(field), "\(field) named: \(Self.problems(response))")
                }
            }
            let addresses = ["http://127.0.0.1:4646/v1/agents", "ftp://x:1", "http://user@host:80", "http://h:0"]
            for address in addresses {
                let body =
                    #"{"node": "evil", "capacity": {"cpuMillis": 4000, "memory": 4294967296, "ioRead": 0, "ioWrite": 0, "pids": 0}, "address": ""#
                    + address + #""}"#
                try await client.execute(
                    uri: "/v1/agents/register", method: .post, headers: RouterTests.bootstrap,
                    body: ByteBuffer(string: body)
                ) { #expect($0.status == .badRequest && Self.problems($0) == ["address"], "\(address)") }
            }
            let node = try await RouterTests.register("n1", client)  // a valid registration still works
            let huge =
                #"{"name": "big", "tenant": "acme", "command": ["/bin/true"], "env": {"X": ""#
                + String(repeating: "x", count: 2 << 20) + #""}}"#
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: RouterTests.auth("acme-token-0123456789"),
                body: ByteBuffer(string: huge)
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("\"too_large\""), "a JSON error, not NIO's text")
            }
            let flood = #"{"name": "flood", "tenant": "acme", "count": 100000, "command": ["/bin/true"]}"#
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: RouterTests.auth("acme-token-0123456789"),
                body: ByteBuffer(string: flood)
            ) { response in
                #expect(response.status == .tooManyRequests)
                #expect(String(buffer: response.body).contains("maxUnfinishedTasksPerTenant"))
            }
            for usage in [#"{"cpu": -1, "memory": 0, "io": 0}"#, #"{"cpu": 1e300, "memory": 0, "io": 0}"#] {
                try await client.execute(
                    uri: "/v1/agents/n1/heartbeat", method: .post, headers: node,
                    body: ByteBuffer(string: #"{"usage": "# + usage + #", "allocations": [], "running": []}"#)
                ) { #expect($0.status == .badRequest && Self.problems($0) == ["usage.cpu"], "\(usage)") }
            }
        }
        let stored = try await store.list(prefix: StoreKeys.nodes, limit: nil).items.map(\.key)
        #expect(stored == [StoreKeys.node(NodeID("n1"))], "nothing invalid was stored: \(stored)")
        _ = await scheduler.shutdown()
    }

    /// A record an older scheduler stored (it checked less) is skipped with a log line, not a trap.
    @Test func aStoredNodeRecordThatFailsTheChecksIsSkippedWhenStateIsLoaded() async throws {
        let store = try SQLiteStore(path: nil)
        let evil = NodeRecord(
            id: NodeID("evil"), capacity: ResourceVector(cpuMillis: 4000, memory: 1 << 32, ioRead: 1, ioWrite: .max))
        let good = NodeRecord(id: NodeID("good"), capacity: ResourceVector(cpuMillis: 4000, memory: 1 << 32))
        _ = try await store.txn(then: [
            .put(StoreKeys.node(evil.id), Array(try JSONEncoder().encode(evil))),
            .put(StoreKeys.node(good.id), Array(try JSONEncoder().encode(good))),
            .put(StoreKeys.node(NodeID("torn")), Array("{not json".utf8)),
        ])
        var skipped: [String] = []
        let core = try await SchedulerCore.loaded(
            from: store, configuration: SchedulerCore.Configuration(), now: 0,
            skipped: { key, _ in skipped.append(key) })
        #expect(core.nodeStatuses.map(\.id) == [NodeID("good")])
        #expect(Set(skipped) == [StoreKeys.node(evil.id), StoreKeys.node(NodeID("torn"))])
        let scheduler = Self.scheduler(store: store)
        try await scheduler.start()  // used to trap here, and on every restart after
        _ = await scheduler.shutdown()
    }

    @Test func aNULInACommandOrTheEnvironmentIsRefusedAtSubmission() throws {
        for (json, field) in [
            (#"{"name": "j", "tenant": "t", "command": ["sh", "a\u0000b"]}"#, "command[1]"),
            (#"{"name": "j", "tenant": "t", "command": ["sh"], "env": {"K\u0000": "v"}}"#, "env.K\u{0}"),
            (#"{"name": "j", "tenant": "t", "command": ["sh"], "env": {"K": "v\u0000"}}"#, "env.K"),
            (#"{"name": "j", "tenant": "t", "command": ["sh"], "env": {"A=B": "v"}}"#, "env.A=B"),
        ] {
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
            #expect {
                _ = try JobSpec.parse(value)
            } throws: { error in
                (error as? JobSpecError)?.problems.contains { $0.field == field } == true
            }
        }
    }
}
