import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// OCI images end to end: built offline with umoci, imported with `corral image import`, advertised by the
/// agent, run by jobs that name them, removed with `corral image rm`.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ImageTests {
    static let requirements: [Requirement] = [
        .root, .cgroups, .binary("umoci", package: "umoci"),
        .file("/bin/busybox", hint: "apt-get install busybox-static"),
    ]

    /// `busybox.tar` (one layer: a static busybox) and `two.tar` (that layer, then one with a whiteout of
    /// /etc/removed and an opaque /data holding only `upper`), as OCI image layout archives.
    static func buildImages(in directory: String) throws {
        let script = """
            set -eu
            cd "$1"
            umoci init --layout img
            umoci new --image img:latest
            umoci unpack --image img:latest b >/dev/null
            mkdir -p b/rootfs/bin b/rootfs/etc b/rootfs/data/old
            cp /bin/busybox b/rootfs/bin/busybox
            for applet in sh cat ls test sleep head; do ln -s busybox b/rootfs/bin/$applet; done
            echo gone > b/rootfs/etc/removed; echo keep > b/rootfs/etc/kept
            echo old > b/rootfs/data/old/file; echo lower > b/rootfs/data/lower
            umoci repack --image img:latest b
            tar -C img -cf busybox.tar .
            mkdir -p l2/etc l2/data
            touch l2/etc/.wh.removed l2/data/.wh..wh..opq
            echo upper > l2/data/upper
            tar -C l2 -cf layer2.tar etc data
            umoci raw add-layer --image img:latest layer2.tar
            tar -C img -cf two.tar .
            """
        let result = try runCommand("/bin/bash", ["-c", script, "build", directory])
        guard result.status == 0 else { throw LocalClusterError("building the test images failed: \(result.stderr)") }
    }

    @Test("imported umoci images run with whiteouts honoured; a tampered blob is refused; rm waits for the last task")
    func images() async throws {
        let missing = Preconditions.missing(Self.requirements)
        try #require(missing.isEmpty, "\(missing)")
        let directory = TemporaryDirectory("corral-images")
        try Self.buildImages(in: directory.path)
        let store = directory.path + "/store"
        func corral(_ arguments: [String]) throws -> CommandResult {
            try runCorral(arguments + ["--images-dir", store])
        }

        let imported = try corral(["image", "import", directory.path + "/busybox.tar", "--name", "busybox:1"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported busybox:1 sha256:"), "\(imported.stdout)")

        // One byte changed in the largest blob (the busybox layer): its sha256 no longer matches its name.
        let tampered = directory.path + "/tampered"
        _ = try runCommand(
            "/bin/bash",
            [
                "-c",
                """
                set -eu; mkdir -p "$1"; tar -C "$1" -xf "$2"
                blob=$(ls -S "$1"/blobs/sha256 | head -1)
                printf X | dd of="$1/blobs/sha256/$blob" bs=1 seek=4096 conv=notrunc 2>/dev/null
                tar -C "$1" -cf "$1.tar" .
                """, "tamper", tampered, directory.path + "/busybox.tar",
            ])
        let refused = try corral(["image", "import", tampered + ".tar", "--name", "tampered:1"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("sha256 mismatch"), "\(refused.stderr)")
        #expect(!(try corral(["image", "ls"]).stdout.contains("tampered")))

        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path + "/cluster", config: ClusterTests.config(),
            failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            var node = LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi")
            node.arguments = ["--images-dir", store]
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)
            func run(_ image: String, _ script: String) async throws -> String {
                try await ClusterTests.submit(
                    cluster,
                    """
                    {"name": "in-image", "tenant": "t", "image": "\(image)", "command": ["sh", "-c", "\(script)"],
                     "resources": {"cpu": 0.2, "memory": "32Mi"}, "retry": {"maxAttempts": 1}}
                    """)
            }
            let plain = try await run("busybox:1", "test -e /etc/removed && test -e /data/lower")
            #expect(
                try await ClusterTests.waitForTasks(cluster, plain) { $0.first?.state.isTerminal == true }.first?.state
                    == .completed)

            // Imported while the agent runs: the job waits until the agent advertises the image.
            let layered = try await run(
                "two:v1",
                "test ! -e /etc/removed && test -e /etc/kept && test ! -e /data/old && test ! -e /data/lower && test -e /data/upper"
            )
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await cluster.client().tasks(layered).first?.state == .pending)
            #expect(try corral(["image", "import", directory.path + "/two.tar", "--name", "two:v1"]).status == 0)
            let ended = try await ClusterTests.waitForTasks(cluster, layered, timeout: .seconds(30)) {
                $0.first?.state.isTerminal == true
            }
            #expect(ended.first?.state == .completed, "\(String(describing: ended.first))")

            // Not removed while a task runs in it; removed once none does.
            let sleeper = try await run("busybox:1", "sleep 60")
            _ = try await ClusterTests.waitForTasks(cluster, sleeper) { $0.first?.state == .running }
            let busy = try corral(["image", "rm", "busybox:1"])
            #expect(busy.status != 0)
            #expect(busy.stderr.contains("in use"), "\(busy.stderr)")
            _ = try await cluster.client().cancel(sleeper)
            _ = try await ClusterTests.waitForTasks(cluster, sleeper) { $0.first?.state.isTerminal == true }
            let removed = try corral(["image", "rm", "busybox:1"])
            #expect(removed.status == 0, "\(removed.stderr)")
            let listing = try corral(["image", "ls"]).stdout
            #expect(!listing.contains("busybox:1") && listing.contains("two:v1"), "\(listing)")
        }
    }
}
