import CSandbox
import Cgroups
import CorralModel
import Foundation
import Sandbox

/// Per-variant figures of `corral bench launch`, ratios relative to plain fork/exec in the same run.
public struct LaunchVariant: Codable, Sendable {
    public var name: String
    public var minMs: Double
    public var p50Ms: Double
    public var p99Ms: Double
    public var ratioMin: Double
    public var ratioP50: Double
}

public struct LaunchReport: Codable, Sendable {
    public var iterations: Int
    public var variants: [LaunchVariant]
    /// How each variant ran, and why a peer is missing.
    public var notes: [String]
}

/// Times launching /bin/true: plain posix_spawn against Corral's full isolated launch and teardown (cgroup
/// create + limits + namespaces + exec + reap + cgroup removal), and crun, runc and bwrap when installed.
/// Variants run interleaved, one iteration of each per round, so drift in machine load hits them alike.
public struct LaunchBenchmark: Sendable {
    public var iterations: Int
    public var warmup: Int
    public var network: NetworkMode
    /// This executable, re-run in a private mount namespace to time crun (see `timeInPrivateMountNamespace`).
    public var executable: String

    public init(iterations: Int, warmup: Int = 10, network: NetworkMode, executable: String) {
        self.iterations = iterations
        self.warmup = warmup
        self.network = network
        self.executable = executable
    }

    public func run(sandbox: Sandbox, progress: @Sendable (String) -> Void) async throws -> LaunchReport {
        var notes: [String] = []
        let bundle = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: bundle) }
        try OCIBundle.write(to: bundle, network: network == .none)
        var peers: [PeerRuntime] = []
        for name in ["runc", "bwrap"] {
            if let peer = PeerRuntime.find(name) { peers.append(peer) } else { notes.append("\(name): not installed") }
        }
        var samples: [String: Samples] = [:]
        let plainArgv = ["/bin/true"]
        let limits = Self.limits
        // The hardened launch without one step each, to price the steps (issue 19).
        var unhardened: [(String, Sandbox, String?)] = [("corral-no-uid-lease", sandbox, "nobody")]
        for (name, change) in Self.withoutSteps {
            var config = sandbox.config
            change(&config)
            unhardened.append((name, try Sandbox(config: config), nil))
        }
        progress(
            "timing plain, corral\(unhardened.map { ", " + $0.0 }.joined())\(peers.map { ", " + $0.name }.joined()) x \(iterations)"
        )
        for round in 0..<(warmup + iterations) {
            let keep = round >= warmup
            let plain = try PeerRuntime(name: "plain", path: "/bin/true").launch(plainArgv)
            if keep { samples["plain", default: Samples()].add(plain) }
            let start = ContinuousClock.now
            let spec = TaskSpec(id: "bench-\(getpid())-\(round)", argv: ["/bin/true"], limits: limits, network: network)
            let outcome = try await sandbox.launch(spec).wait()
            let corral = ContinuousClock.now - start
            guard outcome.exitCode == 0 else { throw BenchmarkError("corral launch failed: \(outcome.summary)") }
            if keep { samples["corral", default: Samples()].add(corral) }
            for (name, variant, user) in unhardened {
                let started = ContinuousClock.now
                let spec = TaskSpec(
                    id: "bench-\(getpid())-\(round)-\(name)", argv: ["/bin/true"], user: user, limits: limits,
                    network: network)
                let outcome = try await variant.launch(spec).wait()
                guard outcome.exitCode == 0 else { throw BenchmarkError("\(name) launch failed: \(outcome.summary)") }
                if keep { samples[name, default: Samples()].add(ContinuousClock.now - started) }
            }
            for peer in peers {
                let elapsed = try peer.launch(
                    peer.argv(bundle: bundle, id: "corral-bench-\(getpid())-\(round)", network: network == .none))
                if keep { samples[peer.name, default: Samples()].add(elapsed) }
            }
        }
        if let crun = PeerRuntime.find("crun") {
            progress("timing crun x \(iterations) in a private mount namespace without /sys/fs/cgroup/unified")
            samples["crun"] = try timeInPrivateMountNamespace(crun, bundle: bundle)
            notes.append(
                "crun: refuses hybrid cgroup hosts, so it ran in a private mount namespace with /sys/fs/cgroup/unified unmounted"
            )
        } else {
            notes.append("crun: not installed")
        }
        let clonedBy = sandbox.config.useSpawner ? "the spawner" : "this process"
        notes.append(
            "corral: network \(network.rawValue), limits cpu 1, memory 64Mi, pids 64, work dir on \(sandbox.config.workRoot), cloned by \(clonedBy)"
        )
        notes.append("plain: posix_spawn + waitpid of /bin/true")
        notes.append(
            "corral is the hardened launch (own root, masked paths, cgroup namespace, device allowlist, seccomp, a leased uid); each corral-no-X variant leaves out one step: its p50 below corral's is that step's cost"
        )
        return Self.report(iterations: iterations, samples: samples, notes: notes)
    }

    /// Corral's launch with one hardening step switched off, by variant name.
    static let withoutSteps: [(String, @Sendable (inout SandboxConfig) -> Void)] = [
        ("corral-no-seccomp", { $0.seccomp = false }),
        ("corral-no-own-root", { $0.hardening.remove(.ownRoot) }),
        ("corral-no-devices", { $0.hardening.remove(.deviceAllowlist) }),
    ]

    /// What Corral's variant (and the OCI bundle) limits: 1 CPU, 64 MiB, 64 pids.
    static let limits = CgroupLimits(cpuCores: 1, memoryMax: 64 << 20, pidsMax: 64)

    static func report(iterations: Int, samples: [String: Samples], notes: [String]) -> LaunchReport {
        let plain = samples["plain"] ?? Samples()
        let order =
            ["plain", "corral", "corral-no-uid-lease"] + withoutSteps.map(\.0) + ["crun", "runc", "bwrap"]
        let variants = order.compactMap { name -> LaunchVariant? in
            guard let s = samples[name] else { return nil }
            return LaunchVariant(
                name: name, minMs: s.min, p50Ms: s.percentile(50), p99Ms: s.percentile(99),
                ratioMin: s.min / plain.min, ratioP50: s.percentile(50) / plain.percentile(50))
        }
        return LaunchReport(iterations: iterations, variants: variants, notes: notes)
    }

    /// crun will not run on a hybrid host while the unified tree is mounted. A child `corral` in a private
    /// mount namespace (unshare -m) unmounts it there, times crun, and prints the samples as JSON.
    func timeInPrivateMountNamespace(_ crun: PeerRuntime, bundle: String) throws -> Samples {
        let script = "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$0\" bench oci-runtime \"$@\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, executable,
            "--runtime", crun.path, "--bundle", bundle, "--iterations", "\(iterations)", "--warmup", "\(warmup)",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let values = try? JSONDecoder().decode([Double].self, from: data) else {
            throw BenchmarkError("timing crun failed (exit \(process.terminationStatus))")
        }
        var samples = Samples()
        values.forEach { samples.add(milliseconds: $0) }
        return samples
    }

    /// The helper's side: time `iterations` launches of one OCI runtime, samples in ms.
    public static func timeRuntime(path: String, bundle: String, iterations: Int, warmup: Int) throws -> [Double] {
        let peer = PeerRuntime(name: URL(fileURLWithPath: path).lastPathComponent, path: path)
        var samples = Samples()
        for round in 0..<(warmup + iterations) {
            let elapsed = try peer.launch(
                peer.argv(bundle: bundle, id: "corral-bench-\(getpid())-\(round)", network: false))
            if round >= warmup { samples.add(elapsed) }
        }
        return samples.values
    }

    /// Touched memory standing in for a long-running agent's heap, so a run shows how launch cost depends
    /// on the launcher's size (with and without the spawner).
    public static func ballast(_ size: String?) throws -> [UInt8]? {
        guard let size else { return nil }
        guard let bytes = try ByteSize.parse(size, field: "ballast") else { return nil }
        var memory = [UInt8](repeating: 0, count: Int(bytes))
        for page in stride(from: 0, to: memory.count, by: 4096) { memory[page] = 1 }
        return memory
    }

    func makeTemporaryDirectory() throws -> String {
        let path = "/dev/shm/corral-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
