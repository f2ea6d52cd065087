import ArgumentParser
import CorralModel
import Dispatch
import Foundation
import Sandbox

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one task in its own cgroup and namespaces, pass its output through, exit with its code.",
        discussion: """
            Sizes: 64M = 64,000,000 bytes, 64Mi = 64 MiB. CPU: 0.5 or 500m. Durations: 10s, 500ms, 1m30s.
            The task runs as a uid of its own (see --task-uids; --user names an account, never root) in /work,
            in a read-only root of its own (the image's, or the host's --root-path directories), with a
            private /tmp, /dev/shm and /proc, a read-only /sys, the default seccomp filter, hostname = task id.
            A usage summary goes to stderr, or one JSON object to stdout with --json.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "CPU limit in cores (0.5, 2, 250m).") var cpu: String?
    @Option(help: "CPU weight 1-10000 (100 = default share).") var cpuWeight: String?
    @Option(help: "Memory limit (64Mi, 1G).") var memory: String?
    @Option(help: "Swap allowed beyond --memory (default 0 when --memory is set).") var swap: String?
    @Option(help: "Maximum number of processes (the sandbox's PID 1 counts).") var pids: String?
    @Option(
        name: .customLong("io-read-bps"),
        help: "Read bytes/s per device: DEV=N (DEV a /dev path or MAJ:MIN). Repeatable.")
    var ioReadBps: [String] = []
    @Option(name: .customLong("io-write-bps"), help: "Write bytes/s per device: DEV=N. Repeatable.") var ioWriteBps:
        [String] = []
    @Option(name: .customLong("io-read-iops"), help: "Read operations/s per device: DEV=N. Repeatable.") var ioReadIops:
        [String] = []
    @Option(name: .customLong("io-write-iops"), help: "Write operations/s per device: DEV=N. Repeatable.")
    var ioWriteIops: [String] = []
    @Option(help: "Stop the task after this long (SIGTERM, then kill after --kill-grace).") var timeout: String?
    @Option(help: "Time between SIGTERM and the cgroup kill (default 5s).") var killGrace: String?
    @Option(help: "Network: none (own namespace, loopback only) or host.") var net: String = "none"
    @Option(help: "Account (name or uid) to run as instead of a uid of the task's own; root is refused.")
    var user: String?
    @Option(help: "Seccomp: default (Corral's filter) or unconfined (no filter; says so on stderr).")
    var seccomp: String = "default"
    @OptionGroup var sandboxOptions: SandboxOptions
    @Option(
        help: "Image to run in: NAME:TAG imported with `corral image import`, or NAME built by `corral image build`.")
    var image: String?
    @Option(help: "Host directory to bind at /work (default: a fresh one on tmpfs, removed afterwards).") var workdir:
        String?
    @Option(name: [.customShort("e"), .customLong("env")], help: "Environment variable NAME=VALUE. Repeatable.")
    var env: [String] = []
    @Option(help: "Task id: cgroup name and hostname (default t-<random>).") var id: String?
    @Option(help: "Size of the private /tmp (default: kernel default).") var tmpSize: String?
    @Option(help: "Parent cgroup, relative to the hierarchy roots.") var cgroupParent: String?
    @Option(help: "The image store (imported and built images).") var imagesDir: String = "/var/lib/corral/images"
    @Flag(help: "Print the outcome as one JSON object on stdout.") var json = false
    @Argument(parsing: .captureForPassthrough, help: "-- COMMAND ARGS...") var command: [String] = []

    func run() async throws {
        let logger = global.bootstrap(label: "corral.exec")
        var request = ExecRequest(command: command)
        request.id = id
        request.cpu = cpu
        request.cpuWeight = cpuWeight
        request.memory = memory
        request.swap = swap
        request.pids = pids
        request.ioReadBps = ioReadBps
        request.ioWriteBps = ioWriteBps
        request.ioReadIops = ioReadIops
        request.ioWriteIops = ioWriteIops
        request.timeout = timeout
        request.killGrace = killGrace
        request.network = net
        request.user = user
        request.image = image
        request.workDirectory = workdir
        request.environment = env
        request.tmpSize = tmpSize

        do {
            var spec = try request.taskSpec()
            (spec.stdin, spec.stdout, spec.stderr) = (0, 1, 2)
            var config = SandboxConfig(cgroupParent: cgroupParent, imagesDirectory: imagesDir)
            try sandboxOptions.apply(to: &config)
            switch seccomp {
            case "default": break
            case "unconfined":
                config.seccomp = false
                FileHandle.standardError.write(
                    Data("corral: --seccomp unconfined: the task runs without a seccomp filter\n".utf8))
            default: throw ValidationError("--seccomp: \"\(seccomp)\" is not default or unconfined")
            }
            let sandbox = try Sandbox(config: config, logger: logger)
            let task = try await sandbox.launch(spec)
            let forwarding = SignalForwarder.forward([SIGINT, SIGTERM, SIGHUP]) { number in
                Task { await task.signal(number) }
            }
            let outcome = await task.wait()
            forwarding.cancel()
            if json {
                print(outcome.jsonString())
            } else {
                FileHandle.standardError.write(Data(("corral: \(spec.id): " + outcome.usageLine + "\n").utf8))
            }
            throw ExitCode(outcome.shellStatus)
        } catch let error as SandboxError {
            FileHandle.standardError.write(Data("corral: error: \(error)\n".utf8))
            throw ExitCode(error.launcherExitCode)
        }
    }
}

/// Forwards signals the launcher receives to the task instead of dying from them.
struct SignalForwarder {
    let sources: [any DispatchSourceSignal]

    static func forward(_ signals: [Int32], to handler: @escaping @Sendable (Int32) -> Void) -> SignalForwarder {
        SignalForwarder(
            sources: signals.map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { handler(number) }
                source.resume()
                return source
            })
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
