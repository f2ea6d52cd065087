import Foundation
import NIOSSL

/// TLS as Corral's processes use it, from PEM files.
public enum TLSSettings {
    /// A server's: its certificate and key; with `clientCA`, clients may present a certificate signed by
    /// it (agents, for mTLS); clients without one (tenants, the CLI) still connect.
    public static func server(certificate: String, key: String, clientCA: String?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            configuration.certificateVerification = .optionalVerification
            configuration.trustRoots = .file(clientCA)
        }
        return configuration
    }

    /// A client's: servers verified against `ca` (the system's roots when nil), and a client certificate
    /// when given.
    public static func client(ca: String?, certificate: String? = nil, key: String? = nil) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let ca { configuration.trustRoots = .file(ca) }
        if let certificate, let key {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        return configuration
    }
}
