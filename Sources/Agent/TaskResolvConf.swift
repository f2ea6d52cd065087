import Logging
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The /etc/resolv.conf bridge tasks get: the host's, without loopback name servers (a resolver on the
/// node's 127.0.0.53 is not reachable from a task's namespace), written once into the agent's data
/// directory and bound read-only over the task's /etc/resolv.conf.
enum TaskResolvConf {
    /// Writes the file and returns its path; nil (logged) when the host names no server a task can reach.
    static func write(from host: String = "/etc/resolv.conf", into dataDir: String, logger: Logger) -> String? {
        guard let text = FileIO.readIfPresent(host) else {
            logger.warning("no \(host): bridge tasks get no name servers")
            return nil
        }
        let kept = filtered(text)
        guard kept.contains(where: { $0.hasPrefix("nameserver") }) else {
            logger.warning(
                "\(host) names only loopback name servers, which bridge tasks cannot reach; they keep their own")
            return nil
        }
        let path = dataDir + "/task-resolv.conf"
        do throws(SystemError) {
            try FileIO.writeAtomically(Array((kept.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o644)
        } catch {
            logger.warning("cannot write the tasks' resolv.conf", metadata: ["error": "\(error)"])
            return nil
        }
        return path
    }

    /// The lines of `text` without loopback name servers.
    static func filtered(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.first == "nameserver", fields.count >= 2 else { return true }
            let server = fields[1]
            return !(server.hasPrefix("127.") || server == "::1" || server == "0.0.0.0")
        }.filter { !$0.isEmpty }
    }

    /// Whether the host's /etc/resolv.conf is a regular file: tasks without an image see the host's /etc,
    /// and a file can be bound only over a file (systemd-resolved makes it a symbolic link).
    static func hostFileIsRegular(_ host: String = "/etc/resolv.conf") -> Bool {
        FileMetadata.of(host, in: AT_FDCWD)?.kind == .file
    }
}
