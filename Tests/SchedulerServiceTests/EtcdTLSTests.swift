import CorralTLS
import Foundation
import Store
import TestSupport
import Testing

@testable import SchedulerService

/// `--etcd-ca`, `--etcd-cert` and `--etcd-key`: a scheduler reaches an etcd that serves TLS and asks for
/// client certificates; without its certificate it does not get in.
@Suite struct EtcdTLSTests {
    @Test func theStoreReachesEtcdOverTLSWithAClientCertificateAndNotWithout() async throws {
        let missing = Preconditions.missing(EtcdServer.requirement)
        try #require(missing.isEmpty, "\(missing)")
        let directory = TemporaryDirectory("corral-etcd-tls")
        _ = try CertificateAuthority.initialize(
            directory: directory.path, hosts: ["127.0.0.1"], nodes: ["scheduler"])
        let path = { (name: String) in directory.path + "/" + name }
        let server = try EtcdServer(
            tls: .init(
                certificate: path("server.pem"), key: path("server.key"), ca: path("ca.pem"),
                clientCertificate: path("node-scheduler.pem"), clientKey: path("node-scheduler.key")))
        defer { server.stop() }
        #expect(server.clientURL.hasPrefix("https://"))

        let store = try EtcdOptions(
            endpoints: [server.clientURL], prefix: "/tls/", ca: path("ca.pem"),
            certificate: path("node-scheduler.pem"), key: path("node-scheduler.key")
        ).store()
        try await store.put("jobs/a", Array("over TLS".utf8))
        #expect(try await store.get("jobs/a")?.value == Array("over TLS".utf8))

        let anonymous = try EtcdOptions(endpoints: [server.clientURL], prefix: "/tls/", ca: path("ca.pem")).store()
        await #expect(throws: StoreError.self) { _ = try await anonymous.get("jobs/a") }
    }
}
