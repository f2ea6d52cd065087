import CorralClient
import CorralModel
import CorralProtocol
import Demo
import Foundation
import SchedulerService
import TestSupport
import Testing

/// Host volumes end to end: an agent declares them, tenants' jobs mount them, placement and permissions
/// follow the tenants' configuration.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct VolumeTests {
    @Test("a read-only volume refuses writes; a writable one is shared by one tenant's tasks and refused to another")
    func volumes() async throws {
        let missing = Preconditions.missing(
            .root, .cgroups, .file("/usr/bin/python3", hint: "apt-get install python3"))
        try #require(missing.isEmpty, "\(missing)")
        let directory = TemporaryDirectory("corral-volumes")
        let data = directory.path + "/data"
        let reference = directory.path + "/ref"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: true)
        try "the data set\n".write(toFile: reference + "/input", atomically: true, encoding: .utf8)
        chmod(reference, 0o755)
        chmod(reference + "/input", 0o644)
        var config = ClusterTests.config()
        config.tenants = [
            "a": .init(token: SchedulerConfig.randomToken(), volumes: ["data", "ref"]),
            "b": .init(token: SchedulerConfig.randomToken(), volumes: ["ref"]),
        ]
        try await LocalCluster.with(
            binary: ClusterTests.binary, dataDir: directory.path + "/cluster", config: config, failOnLeftovers: true
        ) { cluster in
            try cluster.startScheduler()
            var node = LocalCluster.Node(id: "n1", cpu: 2, memory: "2Gi")
            node.arguments = ["--volume", "data=\(data)", "--volume", "ref=\(reference):ro"]
            try cluster.startAgent(node)
            try await cluster.waitForNodes(1)

            func submit(_ tenant: String, _ name: String, _ volumes: String, _ command: [String]) async throws -> String
            {
                let argv = try String(decoding: JSONEncoder().encode(command), as: UTF8.self)
                let spec = """
                    {"name": "\(name)", "tenant": "\(tenant)", "command": \(argv), "volumes": \(volumes),
                     "resources": {"cpu": 0.2, "memory": "64Mi"}, "retry": {"maxAttempts": 1}}
                    """
                let token = cluster.config.tenants[tenant]!.token
                return try await cluster.client(token: token).submit(Data(spec.utf8)).id.rawValue
            }
            func end(_ job: String) async throws -> TaskView {
                let tasks = try await ClusterTests.waitForTasks(cluster, job) { $0.first?.state.isTerminal == true }
                return try #require(tasks.first)
            }
            let both = #"[{"name": "data", "target": "/data"}, {"name": "ref", "target": "/in/ref", "readOnly": true}]"#
            let writer = try await submit(
                "a", "writer", both,
                ["sh", "-c", "cat /in/ref/input > /data/shared && echo $CORRAL_JOB >> /data/shared"])
            #expect(try await end(writer).state == .completed)
            // Another task of the tenant, under another uid, reads it and adds a file of its own.
            let reader = try await submit(
                "a", "reader", both, ["sh", "-c", "grep -q '^the data set$' /data/shared && echo more > /data/second"])
            #expect(try await end(reader).state == .completed)
            let shared = try String(contentsOfFile: data + "/shared", encoding: .utf8)
            #expect(shared == "the data set\n\(writer)\n")
            #expect(FileManager.default.fileExists(atPath: data + "/second"))
            var st = stat()
            #expect(stat(data, &st) == 0)
            #expect(st.st_mode & 0o7777 == 0o2770, "mode \(String(st.st_mode & 0o7777, radix: 8))")
            #expect((0x7001_0000...0x7001_FFFF).contains(st.st_gid), "group \(st.st_gid)")

            // Read-only: a write fails with EROFS (exit 0 says so), and the host's file is untouched.
            let script = """
                import errno, sys
                try:
                    open('/in/ref/input', 'w')
                except OSError as e:
                    sys.exit(0 if e.errno == errno.EROFS else 2)
                sys.exit(1)
                """
            let readOnly = try await submit(
                "b", "read-only", #"[{"name": "ref", "target": "/ref", "readOnly": true}]"#,
                ["python3", "-c", script.replacingOccurrences(of: "/in/ref", with: "/ref")])
            let ended = try await end(readOnly)
            #expect(ended.state == .completed, "exit \(String(describing: ended.exitCode))")
            #expect(try String(contentsOfFile: reference + "/input", encoding: .utf8) == "the data set\n")

            // Tenant b may not mount the writable volume.
            await #expect {
                _ = try await submit("b", "intruder", #"[{"name": "data", "target": "/data"}]"#, ["true"])
            } throws: { error in
                let error = error as? APIError
                return error?.status == 422 && error?.problems?.first?.field == "volumes[0].name"
            }
        }
    }
}
