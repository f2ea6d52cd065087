import AsyncHTTPClient
import CorralClient
import CorralModel
import CorralProtocol
import CorralTLS
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Issue 20, item 2: TLS everywhere a token travels. A cluster whose scheduler serves HTTPS and requires
/// each agent's client certificate (mTLS) runs jobs and relays logs; plain HTTP, a client trusting another
/// CA, and an agent presenting another node's certificate are refused.
@Suite(.serialized, .enabled(if: Preconditions.met(.root, .cgroups)), .timeLimit(.minutes(3)))
struct TLSTests {
    static let registration = Registration(node: "n9", capacity: ResourceVector(cpuMillis: 1000, memory: 1 << 30))

    @Test func aClusterOverTLSWithAgentCertificatesRunsJobsAndRelaysLogs() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-tls")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, tls: true, failOnLeftovers: true
        ) { cluster in
            #expect(cluster.url.hasPrefix("https://"))
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "1Gi"))
            try await cluster.waitForNodes(1)
            let address = try await cluster.client().nodes().first?.address
            #expect(address?.hasPrefix("https://") == true, "the agent serves its logs over TLS: \(address ?? "none")")
            let job = try await ClusterTests.submit(
                cluster, #"{"name": "tls", "tenant": "t", "command": ["sh", "-c", "echo over tls"]}"#)
            _ = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .completed }
            let allocation = AllocationID(stringLiteral: "\(job).0.1")
            let logs = try await cluster.client(token: config.tenants["t"]!.token).logs(
                allocation: allocation, stream: "stdout", offset: 0)
            #expect(String(decoding: logs.bytes, as: UTF8.self) == "over tls\n")
        }
    }

    @Test func plainHTTPAClientTrustingAnotherCAAndAnotherNodesCertificateAreRefused() async throws {
        try ClusterTests().requirements()
        let directory = TemporaryDirectory("corral-tls-refused")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, tls: true, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try await cluster.waitForScheduler()
            let tls = directory.path + "/tls"
            _ = try CertificateAuthority.issueNodes(directory: tls, nodes: ["n9", "n8"])
            _ = try CertificateAuthority.initialize(directory: directory.path + "/other", hosts: [], nodes: ["n9"])

            // Plain HTTP to the TLS port: no answer.
            let plain = SchedulerClient(
                baseURL: cluster.url.replacingOccurrences(of: "https://", with: "http://"), token: config.adminToken)
            await #expect(throws: (any Error).self) { _ = try await plain.nodes() }
            // A client that trusts another CA does not trust the scheduler.
            let stranger = try SchedulerClient(
                baseURL: cluster.url, token: config.adminToken, tls: ClientTLS(ca: directory.path + "/other/ca.pem"))
            await #expect(throws: (any Error).self) { _ = try await stranger.nodes() }
            #expect(try await cluster.client().nodes().isEmpty, "the right CA: answered")

            // mTLS: node n9 registers only with n9's certificate; n8's, none, or another CA's n9 are refused.
            func register(_ certificate: String?) async throws -> Int {
                let client = try SchedulerClient(
                    baseURL: cluster.url, token: config.agentToken,
                    tls: ClientTLS(
                        ca: tls + "/ca.pem", certificate: certificate.map { $0 + ".pem" },
                        key: certificate.map { $0 + ".key" }))
                do {
                    _ = try await client.register(Self.registration)
                    return 200
                } catch let error as APIError {
                    return error.status
                } catch {
                    return 0  // the handshake itself failed
                }
            }
            #expect(try await register(nil) == 403)
            #expect(try await register(tls + "/node-n8") == 403)
            #expect(try await register(directory.path + "/other/node-n9") == 0, "a certificate of another CA")
            #expect(try await register(tls + "/node-n9") == 200)
        }
    }
}
