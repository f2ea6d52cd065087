import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

private let consoleNeeds: [Requirement] = [
    .root, .cgroups, .binary("chromium", package: "chromium"), .binary("chromedriver", package: "chromium-driver"),
    .pythonModule("selenium", package: "selenium"), .pythonModule("PIL", package: "pillow"),
]

/// The web console in Debian's headless chromium (Scripts/console.py drives it) against a real TLS
/// cluster of two agents and two tenants: sign-in, isolation on every page and endpoint, live updates,
/// live logs, drain/undrain and cancel from the pages, screenshots at 1280x800 and 390x844 (kept in
/// .build/test-artifacts/console), no console errors, no request off the page's origin.
@Suite(.serialized, .enabled(if: Preconditions.met(consoleNeeds)), .timeLimit(.minutes(8)))
struct ConsoleTests {
    static let needs = consoleNeeds

    static func config() -> SchedulerConfig {
        var config = SchedulerConfig(
            adminToken: SchedulerConfig.randomToken(), agentToken: SchedulerConfig.randomToken(),
            tenants: [
                "alpha": .init(
                    token: SchedulerConfig.randomToken(), quota: .init(cpu: 2, memory: "1Gi", runningTasks: 10)),
                "bravo": .init(token: SchedulerConfig.randomToken(), quota: .init(cpu: 1, memory: "512Mi")),
            ])
        config.heartbeatIntervalSeconds = 1
        return config
    }

    struct Outcome: Decodable {
        struct Check: Decodable {
            var name: String
            var ok: Bool
            var detail: String
        }
        struct Shot: Decodable {
            var name: String
            var png: String
            var size: [Int]
        }
        var checks: [Check]
        var screenshots: [Shot]
        var requests: Int
    }

    @Test("the console in a real browser: tenants isolated, updates live, actions work, both screen sizes")
    func consoleInHeadlessChromium() async throws {
        try #require(Preconditions.missing(Self.needs).isEmpty, "\(Preconditions.missing(Self.needs))")
        let directory = TemporaryDirectory("corral-console")
        let artifacts = repositoryRoot() + "/.build/test-artifacts/console"
        try? FileManager.default.removeItem(atPath: artifacts)
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: Self.config(), tls: true,
            failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            for id in ["a", "b"] { try cluster.startAgent(LocalCluster.Node(id: id, cpu: 2, memory: "2Gi")) }
            try await cluster.waitForNodes(2)
            // The other tenant's job, running throughout: the console must never show it to tenant alpha.
            let bravo = cluster.client(token: cluster.config.tenants["bravo"]!.token)
            let other = try await bravo.submit(
                Data(
                    (#"{"name": "bravo-secret", "tenant": "bravo", "resources": {"cpu": 0.1, "memory": "16Mi"},"#
                        + #" "command": ["sh", "-c", "echo bravo output; sleep 300"]}"#).utf8))
            let running = try await ClusterTests.waitForTasks(cluster, other.id.rawValue) {
                $0.first?.state == .running
            }
            let allocation = try #require(running.first?.allocation)

            let settings: [String: Any] = [
                "base": cluster.schedulerURLs[0], "ca": cluster.caFile ?? "", "admin": cluster.config.adminToken,
                "tenant": cluster.config.tenants["alpha"]!.token, "tenantName": "alpha", "otherTenant": "bravo",
                "otherJob": other.id.rawValue, "otherJobName": "bravo-secret", "otherOutput": "bravo output",
                "otherAllocation": allocation.description, "nodes": ["a", "b"],
                "artifacts": artifacts,
            ]
            let configFile = directory.path + "/console.json"
            try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: configFile))
            let result = try runCommand(
                Requirement.which("python3") ?? "/usr/bin/python3",
                [repositoryRoot() + "/Tests/ClusterTests/Scripts/console.py", configFile], timeout: 360)
            try #require(result.status == 0, "console.py failed: \(result.stderr)")
            let outcome = try JSONDecoder().decode(Outcome.self, from: Data(result.stdout.utf8))
            for check in outcome.checks {
                #expect(check.ok, "\(check.name): \(check.detail)")
            }
            #expect(outcome.checks.count > 60, "\(outcome.checks.count) checks ran")
            #expect(outcome.requests > 0, "the browser's requests were recorded")
            // Six pages at two sizes, each a PNG of the size asked for.
            #expect(outcome.screenshots.count == 12)
            for shot in outcome.screenshots {
                let png = try Data(contentsOf: URL(fileURLWithPath: shot.png))
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(shot.png) is not a PNG")
            }
            _ = try await cluster.client().cancel(other.id.rawValue)
        }
    }
}
