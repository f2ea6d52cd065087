import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// `corral alloc fs`: a task's work directory read through the scheduler, while it runs and after it ended,
/// never outside it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct WorkFilesTests {
    @Test(
        "corral alloc fs reads a result after the task ended, refuses ../ and symlink escapes, forgets after retention")
    func filesOut() async throws {
        let missing = Preconditions.missing(.root, .cgroups)
        try #require(missing.isEmpty, "\(missing)")
        let directory = TemporaryDirectory("corral-files")
        var config = ClusterTests.config()
        config.tenants = [
            "a": .init(token: SchedulerConfig.randomToken()), "b": .init(token: SchedulerConfig.randomToken()),
        ]
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            var node = LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi")
            node.arguments = ["--work-retention", "3s"]
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)
            let tenant = cluster.client(token: cluster.config.tenants["a"]!.token)
            let script =
                "mkdir out && echo result-$CORRAL_JOB > out/result.txt && ln -s /etc/passwd escape && ln -s .. up"
            let spec = """
                {"name": "result", "tenant": "a", "command": ["sh", "-c", "\(script)"],
                 "resources": {"cpu": 0.2, "memory": "32Mi"}, "retry": {"maxAttempts": 1}}
                """
            let job = try await tenant.submit(Data(spec.utf8)).id.rawValue
            let tasks = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state.isTerminal == true }
            let task = try #require(tasks.first)
            #expect(task.state == .completed)
            // An ended task's view no longer names its allocation: the attempt does.
            let allocation: AllocationID = "\(job).0.\(task.attempt)"

            guard case .directory(let listing) = try await tenant.files(allocation: allocation, path: "") else {
                Issue.record("the work directory is not listed as one")
                return
            }
            #expect(listing.entries.map(\.name) == ["checkpoint", "escape", "out", "up"], "with CORRAL_CHECKPOINT_DIR")
            #expect(listing.entries.first { $0.name == "escape" }?.kind == .symlink)
            #expect(listing.running == false)

            let printed = try runCorral(
                ["alloc", "fs", allocation.description, "out/result.txt"],
                environment: ["CORRAL_ADDR": cluster.url, "CORRAL_TOKEN": cluster.config.tenants["a"]!.token])
            #expect(printed.status == 0, "\(printed.stderr)")
            #expect(printed.stdout == "result-\(job)\n")

            for escape in ["../n1", "out/../../x", "escape", "up/etc/passwd"] {
                await #expect(throws: APIError.self, "\(escape)") {
                    _ = try await tenant.files(allocation: allocation, path: escape)
                }
                do { _ = try await tenant.files(allocation: allocation, path: escape) } catch let error as APIError {
                    #expect(error.status == 400, "\(escape): \(error)")
                }
            }
            // Another tenant may not look.
            let other = cluster.client(token: cluster.config.tenants["b"]!.token)
            do {
                _ = try await other.files(allocation: allocation, path: "out/result.txt")
                Issue.record("tenant b read tenant a's files")
            } catch let error as APIError {
                #expect(error.status == 403)
            }

            // After the retention (3 s, swept every 5 s) the directory is gone.
            var gone = false
            for _ in 0..<40 where !gone {
                try await Task.sleep(for: .milliseconds(500))
                do { _ = try await tenant.files(allocation: allocation, path: "") } catch let error as APIError {
                    gone = error.status == 404
                }
            }
            #expect(gone, "the work directory is still readable after its retention")
        }
    }

    @Test("corral alloc fs reads a running task's files")
    func whileRunning() async throws {
        try await Self.withOneNode("corral-files") { cluster in
            let job = try await ClusterTests.submit(
                cluster,
                #"{"name": "progress", "tenant": "t", "command": ["sh", "-c", "seq 1 100000 > progress; sleep 60"]}"#)
            let tasks = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state == .running }
            let allocation = try #require(tasks.first?.allocation)
            var content = Data()
            for _ in 0..<50 {
                if case .file(let bytes, let size, _) = try? await cluster.client().files(
                    allocation: allocation, path: "progress", offset: 100, limit: 20), size == 588_895
                {
                    content = bytes
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            // seq 1 100000 is 588,895 bytes; bytes 100..<120 are "\n35\n36\n37\n38\n39\n40\n4" shifted as below.
            let whole = (1...100_000).map(String.init).joined(separator: "\n") + "\n"
            #expect(
                String(decoding: content, as: UTF8.self)
                    == String(Array(whole.utf8)[100..<120].map { Character(Unicode.Scalar($0)) }))
            _ = try await cluster.client().cancel(job)
            _ = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state.isTerminal == true }
        }
    }
}

extension WorkFilesTests {
    @Test("resources.disk bounds the work directory (ENOSPC past it) and its use is reported")
    func diskBound() async throws {
        try await Self.withOneNode("corral-disk") { cluster in
            // 2 MiB into a 1 MiB work directory: the write fails with ENOSPC and says so.
            let over = try await ClusterTests.submit(
                cluster,
                """
                {"name": "over", "tenant": "t", "resources": {"disk": "1Mi", "memory": "64Mi"},
                 "retry": {"maxAttempts": 1},
                 "command": ["sh", "-c", "head -c 2097152 /dev/zero > big 2> /tmp/err; cat /tmp/err; test $(wc -c < big) -le 1048576"]}
                """)
            let ended = try await ClusterTests.waitForTasks(cluster, over) { $0.first?.state.isTerminal == true }
            #expect(ended.first?.state == .completed, "\(String(describing: ended.first))")
            let said = try await cluster.client().logs(allocation: "\(over).0.1", stream: "stdout", offset: 0)
            #expect(String(decoding: said.bytes, as: UTF8.self).contains("No space left"))

            // 1 MiB in a 4 MiB work directory: reported as the task's disk use while it runs.
            let holder = try await ClusterTests.submit(
                cluster,
                """
                {"name": "holder", "tenant": "t", "resources": {"disk": "4Mi", "memory": "64Mi"},
                 "command": ["sh", "-c", "head -c 1048576 /dev/zero > data && sleep 60"]}
                """)
            let reported = try await ClusterTests.waitForTasks(cluster, holder) {
                ($0.first?.usage?.diskBytes ?? 0) >= 1 << 20
            }
            #expect((reported.first?.usage?.diskBytes ?? 0) < 4 << 20)
            _ = try await cluster.client().cancel(holder)
            _ = try await ClusterTests.waitForTasks(cluster, holder) { $0.first?.state.isTerminal == true }
        }
    }
}

extension WorkFilesTests {
    /// A scheduler and one agent `n1` (2 CPUs, 2 GiB) on loopback, data under a temporary directory.
    static func withOneNode(_ prefix: String, _ body: (LocalCluster) async throws -> Void) async throws {
        let missing = Preconditions.missing(.root, .cgroups)
        try #require(missing.isEmpty, "\(missing)")
        let directory = TemporaryDirectory(prefix)
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path, config: ClusterTests.config(), failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            try cluster.startAgent(LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi"))
            try await cluster.waitForNodes(1)
            try await body(cluster)
        }
    }
}
