import Foundation

/// One etcd member on loopback for a test: its own data directory and ports, started from PATH (Debian's
/// etcd-server), stopped by its pid. Fast elections (10 ms heartbeats) so it is ready in about 0.1 s.
public final class EtcdServer: @unchecked Sendable {
    public static let requirement = Requirement.binary("etcd", package: "etcd-server")
    public let clientURL: String
    let process = Process()
    let directory: TemporaryDirectory

    /// TLS for clients: the member's certificate and key, and the CA its clients' certificates must be
    /// signed by (`--client-cert-auth`).
    public struct TLS: Sendable {
        public var certificate: String
        public var key: String
        public var ca: String
        /// A client certificate and key the health check presents.
        public var clientCertificate: String
        public var clientKey: String
        public init(certificate: String, key: String, ca: String, clientCertificate: String, clientKey: String) {
            self.certificate = certificate
            self.key = key
            self.ca = ca
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
        }
    }

    public init(tls: TLS? = nil) throws {
        directory = TemporaryDirectory("corral-etcd")
        let client = Self.freePort()
        let peer = Self.freePort()
        clientURL = "\(tls == nil ? "http" : "https")://127.0.0.1:\(client)"
        let peerURL = "http://127.0.0.1:\(peer)"
        process.executableURL = URL(fileURLWithPath: try Requirement.which("etcd").unwrap("etcd"))
        process.arguments = [
            "--name", "s1", "--data-dir", directory.path + "/data",
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "s1=\(peerURL)", "--initial-cluster-state", "new",
            "--heartbeat-interval", "10", "--election-timeout", "50", "--logger", "zap", "--log-level", "error",
        ]
        if let tls {
            process.arguments! += [
                "--cert-file", tls.certificate, "--key-file", tls.key, "--trusted-ca-file", tls.ca,
                "--client-cert-auth",
            ]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.healthy(clientURL, tls: tls) { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw EtcdServerError(message: "etcd did not become healthy on \(clientURL) within 20 s")
    }

    /// SIGKILL by pid, then wait; safe to call twice.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    static func healthy(_ url: String, tls: TLS?) -> Bool {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments =
            ["-sf", "-m", "1", url + "/health"]
            + (tls.map { ["--cacert", $0.ca, "--cert", $0.clientCertificate, "--key", $0.clientKey] } ?? [])
        curl.standardOutput = FileHandle.nullDevice
        curl.standardError = FileHandle.nullDevice
        guard (try? curl.run()) != nil else { return false }
        curl.waitUntilExit()
        return curl.terminationStatus == 0
    }

    /// A port the kernel just gave out on 127.0.0.1 (bound and released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct EtcdServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension Optional {
    func unwrap(_ what: String) throws -> Wrapped {
        guard let self else { throw EtcdServerError(message: "needs \(what) in PATH: apt-get install etcd-server") }
        return self
    }
}
