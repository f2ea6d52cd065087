import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PropertyBased
import Store
import Testing

/// Issue 20: no request may reach a trap. Random registrations, heartbeats and job specs, built from
/// the values that break things (the extremes of every integer type, huge and tiny doubles, wrong types,
/// NUL, path tricks, very long strings), thrown at the router: the scheduler answers each with 2xx or
/// 4xx, never a 500 and never a crash, and goes on serving.
@Suite(.timeLimit(.minutes(2)))
struct HostileInputTests {
    static let numbers = [
        "0", "1", "-1", "2", "1000", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "18446744073709551615", "4294967296", "1e308", "-1e308", "1e-308", "1.5", "0.5", "1e18", "null", "\"x\"",
        "true", "[]", "{}", "\"500m\"", "\"16Gi\"", "\"-1\"", "\"1e400\"", "\"9223372036854775807Ki\"", "\"30s\"",
        "\"-5m\"",
    ]
    static let strings = [
        "\"n1\"", "\"\"", "\"../x\"", "\"" + String(repeating: "a", count: 300) + "\"", "\"a\\u0000b\"", "\"é\"",
        "\"x=y\"", "\"j1.0.1\"", "\"n1/../../etc\"", "\"http://127.0.0.1:4646/v1/nodes\"", "\"https://h:1\"", "1",
        "null", "\"acme\"", "\"/bin/true\"", "\"running\"", "\"exited\"", "\"unknown\"",
    ]

    /// A body for `kind` (0 registration, 1 heartbeat, 2 job spec) from twelve random picks.
    static func body(kind: Int, _ p: [Int]) -> String {
        func n(_ i: Int) -> String { numbers[p[i] % numbers.count] }
        func s(_ i: Int) -> String { strings[p[i] % strings.count] }
        switch kind {
        case 0:
            return #"{"node": \#(s(0)), "capacity": {"cpuMillis": \#(n(1)), "memory": \#(n(2)), "ioRead": \#(n(3)), "#
                + #""ioWrite": \#(n(4)), "pids": \#(n(5))}, "labels": {\#(s(6)): \#(s(7))}, "weight": \#(n(8)), "#
                + #""address": \#(s(9)), "info": {"k": \#(s(10))}}"#
        case 1:
            return
                #"{"usage": {"cpu": \#(n(0)), "memory": \#(n(1)), "io": \#(n(2))}, "allocations": [{"id": \#(s(3)), "#
                + #""state": \#(s(4)), "exitCode": \#(n(5)), "usage": {"cpuUsec": \#(n(6)), "memoryBytes": \#(n(7)), "#
                + #""ioReadBytes": 0, "ioWriteBytes": 0, "pids": \#(n(8))}}], "running": [\#(s(9))], "diskFull": \#(n(10))}"#
        default:
            return #"{"name": \#(s(0)), "tenant": "acme", "command": [\#(s(1))], "resources": {"cpu": \#(n(2)), "#
                + #""memory": \#(n(3)), "ioReadBps": \#(n(4)), "pids": \#(n(5))}, "count": \#(n(6)), "timeout": \#(n(7)), "#
                + #""retry": {"maxAttempts": \#(n(8)), "initialDelay": \#(n(9)), "jitter": \#(n(10))}, "#
                + #""priority": \#(n(11)), "env": {\#(s(7)): \#(s(1))}}"#
        }
    }

    @Test func randomRegistrationsHeartbeatsAndJobSpecsAreAnswered2xxOr4xx() async throws {
        try await NodeCredentialTests.withRouter(store: try SQLiteStore(path: nil)) { _, client in
            let node = try await RouterTests.register("n1", client)
            await propertyCheck(
                count: 300, input: Gen.int(in: 0...2), Gen.int(in: 0...10_000).array(of: 12...12)
            ) { kind, picks in
                let body = Self.body(kind: kind, picks)
                let (uri, headers) = [
                    ("/v1/agents/register", RouterTests.bootstrap), ("/v1/agents/n1/heartbeat", node),
                    ("/v1/jobs", RouterTests.auth("acme-token-0123456789")),
                ][kind]
                let status = try? await client.execute(
                    uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)
                ) { Int($0.status.code) }
                #expect(
                    status.map { (200..<500).contains($0) } == true,
                    "\(status.map(String.init) ?? "no answer") for \(uri) \(body)")
            }
            // Still serving.
            try await client.execute(uri: "/v1/jobs", method: .get, headers: RouterTests.auth("acme-token-0123456789"))
            {
                #expect($0.status == .ok)
            }
        }
    }
}
