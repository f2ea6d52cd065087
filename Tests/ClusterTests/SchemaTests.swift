import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import Scheduler
import SchedulerService
import TestSupport
import Testing

/// schemathesis (PyPI) generates requests from the served OpenAPI document against a live `corral
/// scheduler` process, over TLS, and checks every answer: no 5xx and no crash, status codes, content types and
/// bodies as documented, invalid input refused, undeclared methods answered 405, auth not ignored.
@Suite(.serialized, .enabled(if: Preconditions.met(.pythonTool("schemathesis"))), .timeLimit(.minutes(5)))
struct SchemaTests {
    @Test("schemathesis finds no failure in the scheduler's API against its own OpenAPI document")
    func schemathesisPassesAgainstALiveScheduler() async throws {
        try #require(
            Preconditions.missing(.pythonTool("schemathesis")).isEmpty,
            "\(Preconditions.missing(.pythonTool("schemathesis")))")
        let directory = TemporaryDirectory("corral-schema")
        let config = ClusterTests.config()
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, tls: true, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try await cluster.waitForScheduler()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Requirement.which("schemathesis")!)
            process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
            process.arguments = [
                "run", cluster.url + "/v1/openapi.json", "--header", "Authorization: Bearer \(config.adminToken)",
                // Over TLS, as a cluster runs: the scheduler verified against the cluster's CA.
                "--tls-verify", try #require(cluster.caFile),
                "--checks", "all",
                // Semantic rules the schema cannot state (the tenant must be configured, a task must fit its
                // tenant's quota) make some schema-valid submissions 422 by design.
                "--exclude-checks", "positive_data_acceptance",
                // The long-poll holds a request for up to 60 s by design; RouterTests cover it.
                "--exclude-path", "/v1/agents/{node}/allocations",
                "--max-examples", "25", "--seed", "20261201", "--workers", "1", "--request-timeout", "15",
                "--no-color",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "schemathesis found problems:\n\(text.suffix(6000))")
            #expect(text.contains("Tested: "), "no operation was tested:\n\(text.suffix(2000))")
        }
    }
}
