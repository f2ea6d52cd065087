import Crypto
import Foundation
import SwiftASN1
import X509

/// `corral tls init`: a certificate authority (ECDSA P-256) and what it signs for a cluster, as PEM files
/// in one directory: `ca.pem` and `ca.key`, `server.pem` and `server.key` for the scheduler (and agents'
/// log endpoints), and `node-<id>.pem` and `node-<id>.key` for each node's agent, whose name (the subject's
/// common name and a DNS name) is the node id that mTLS checks. Keys are written 0600; no file is
/// overwritten.
public enum CertificateAuthority {
    public static let validity: TimeInterval = 825 * 86_400

    /// Writes the files; returns their paths. `hosts` are the names and addresses clients reach the
    /// scheduler by (`localhost` and `127.0.0.1` are always in).
    public static func initialize(directory: String, hosts: [String], nodes: [String]) throws -> [String] {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("Corral")
            CommonName("Corral cluster CA")
        }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 300, notValidAfter: now + validity * 4, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        var written = [
            try write(ca.serializeAsPEM().pemString, to: directory + "/ca.pem", mode: 0o644),
            try write(caKey.pemRepresentation, to: directory + "/ca.key", mode: 0o600),
        ]
        let serverNames = Array(NSOrderedSet(array: ["localhost", "127.0.0.1"] + hosts)) as? [String] ?? hosts
        written += try issue(
            name: "corral-scheduler", alternativeNames: serverNames, caKey: caKey, ca: caName,
            path: directory + "/server")
        for node in nodes {
            written += try issue(
                name: node, alternativeNames: [node], caKey: caKey, ca: caName, path: directory + "/node-\(node)")
        }
        return written
    }

    /// Client certificates for more nodes, signed by the CA `initialize` made in `directory`.
    public static func issueNodes(directory: String, nodes: [String]) throws -> [String] {
        let ca = try Certificate(pemEncoded: String(contentsOfFile: directory + "/ca.pem", encoding: .utf8))
        let caKey = try P256.Signing.PrivateKey(
            pemRepresentation: String(contentsOfFile: directory + "/ca.key", encoding: .utf8))
        return try nodes.flatMap { node in
            try issue(
                name: node, alternativeNames: [node], caKey: caKey, ca: ca.subject, path: directory + "/node-\(node)")
        }
    }

    /// A leaf certificate for servers and clients alike, signed by the CA; writes `path.pem` and `path.key`.
    static func issue(
        name: String, alternativeNames: [String], caKey: P256.Signing.PrivateKey, ca: DistinguishedName, path: String
    ) throws -> [String] {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let sans = alternativeNames.map { name -> GeneralName in
            if let bytes = ipv4(name) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 300,
            notValidAfter: now + validity, issuer: ca,
            subject: try DistinguishedName {
                OrganizationName("Corral")
                CommonName(name)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(sans)
            },
            issuerPrivateKey: .init(caKey))
        return [
            try write(certificate.serializeAsPEM().pemString, to: path + ".pem", mode: 0o644),
            try write(key.pemRepresentation, to: path + ".key", mode: 0o600),
        ]
    }

    /// The DNS names of a DER certificate's subject alternative names (a node certificate's is its id).
    public static func dnsNames(derEncoded bytes: [UInt8]) -> [String] {
        guard let certificate = try? Certificate(derEncoded: bytes),
            let names = try? certificate.extensions.subjectAlternativeNames
        else { return [] }
        return names.compactMap { name in
            if case .dnsName(let dns) = name { return dns }
            return nil
        }
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    static func write(_ text: String, to path: String, mode: mode_t) throws -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: path, "errno": errno])
        }
        defer { close(fd) }
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return path
    }
}
