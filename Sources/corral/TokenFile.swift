import ArgumentParser
import CorralClient
import Foundation

extension ClientTLS {
    /// `--ca`, else `$CORRAL_CACERT`, with an agent's client certificate; nil when none is given.
    static func fromOptions(ca: String?, certificate: String? = nil, key: String? = nil) -> ClientTLS? {
        let ca = ca ?? ProcessInfo.processInfo.environment["CORRAL_CACERT"]
        guard ca != nil || certificate != nil else { return nil }
        return ClientTLS(ca: ca, certificate: certificate, key: key)
    }
}

/// Where a command finds its bearer token: `--token-file`, else `$CORRAL_TOKEN`. Never a command-line
/// argument, which every user of the host can read in /proc/PID/cmdline.
enum TokenFile {
    /// The token in `path` (surrounding whitespace dropped), or `$CORRAL_TOKEN`; `hint` says which token.
    static func token(_ path: String?, hint: String) throws -> String {
        if let path { return try read(path) }
        guard let token = ProcessInfo.processInfo.environment["CORRAL_TOKEN"], !token.isEmpty else {
            throw ValidationError("no token: pass --token-file FILE or set CORRAL_TOKEN (\(hint))")
        }
        return token
    }

    /// Refuses a file that others could read, as ssh does with a private key.
    static func read(_ path: String) throws -> String {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw ValidationError("--token-file \(path): cannot be read")
        }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o777
        guard mode & 0o077 == 0 else {
            throw ValidationError(
                "--token-file \(path): group or others may read it (mode \(String(mode, radix: 8))): chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            case let token = text.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else { throw ValidationError("--token-file \(path): holds no token") }
        return token
    }
}
