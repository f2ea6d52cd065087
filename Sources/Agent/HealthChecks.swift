import AsyncHTTPClient
import CorralModel
import CorralProtocol
import Foundation
import NIOCore
import NIOHTTP1
import Sandbox

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one health check against a service task: http (a GET answered 2xx or 3xx), tcp (a connection
/// accepted) or exec (a command inside the task's sandbox exits 0), within the check's timeout. Returns
/// whether it passed and what it saw.
enum HealthProbe {
    struct Target {
        /// The task's address on the bridge.
        var address: String?
        var ports: [PublishedPort]
        var task: SandboxedTask
        var sandbox: Sandbox
        /// The task's own environment, given to exec checks too.
        var environment: [String: String]
    }

    /// How much of an exec check's output is kept (the task view shows it).
    static let outputLimit = 512

    static func run(_ check: HealthCheck, _ target: Target) async -> (passed: Bool, output: String) {
        switch check.type {
        case .http, .tcp:
            guard let address = target.address, let port = target.ports.first(where: { $0.name == check.port }) else {
                return (false, "no address for port \(check.port ?? "?")")
            }
            return check.type == .http
                ? await http(address, port.to, check.path, timeout: check.timeout)
                : await tcp(address, port.to, timeout: check.timeout)
        case .exec:
            return await exec(check, target)
        }
    }

    /// The command runs with the task's own confinement (Sandbox.run(_:in:)): it can do no more than the task.
    static func exec(_ check: HealthCheck, _ target: Target) async -> (Bool, String) {
        let result: EnteredCommand
        do {
            result = try await target.sandbox.run(
                check.command, in: target.task, environment: target.environment, timeout: check.timeout,
                outputLimit: outputLimit)
        } catch {
            return (false, error.description)
        }
        var output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if result.truncated > 0 { output += " [\(result.truncated) more bytes]" }
        let said = output.isEmpty ? "" : ": " + output
        switch result.status {
        case .exited(0): return (true, "exit 0" + said)
        case .exited(let code): return (false, "exit \(code)" + said)
        case .signaled(let signal): return (false, "killed by signal \(signal)" + said)
        case nil: return (false, "no exit within \(check.timeout)" + said)
        }
    }

    /// The checks' client follows no redirect: a task's answer must not send the agent to another address
    /// (a 3xx passes as it is).
    static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    static func http(_ address: String, _ port: Int, _ path: String, timeout: Duration) async -> (Bool, String) {
        let request = HTTPClientRequest(url: "http://\(address):\(port)\(path)")
        do {
            let response = try await client.execute(
                request, timeout: .milliseconds(timeout.wholeMilliseconds))
            _ = try? await response.body.collect(upTo: 64 << 10)
            return ((200..<400).contains(Int(response.status.code)), "HTTP \(response.status.code)")
        } catch {
            return (false, "GET \(path): \(error)")
        }
    }

    static func tcp(_ address: String, _ port: Int, timeout: Duration) async -> (Bool, String) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: connect(address, port, timeoutMs: Int32(timeout.wholeMilliseconds)))
            }
        }
    }

    /// A non-blocking connect, waited for with poll.
    static func connect(_ address: String, _ port: Int, timeoutMs: Int32) -> (Bool, String) {
        let fd = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (false, "socket: errno \(errno)") }
        defer { close(fd) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else { return (false, "\(address) is not IPv4") }
        let rc = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else { return (false, "port \(port): \(String(cString: strerror(errno)))") }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, timeoutMs) == 1 else {
                return (false, "port \(port): no answer within \(timeoutMs) ms")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { return (false, "port \(port): \(String(cString: strerror(error)))") }
        }
        return (true, "connected to port \(port)")
    }
}
