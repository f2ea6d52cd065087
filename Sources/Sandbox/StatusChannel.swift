import CSandbox
import Cgroups
import CorralModel
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Where PID 1 writes the task's end (`exit N` / `signal N`): a pipe read when PID 1 has exited, or a
/// file the agent keeps so that it can learn the status after its own restart.
struct StatusChannel: Sendable {
    /// Our end (pipe) or -1 (file).
    let readFD: Int32
    /// Given to PID 1; closed by us once PID 1 holds it.
    let writeFD: Int32
    let file: String?

    static func open(file: String?) throws(SandboxError) -> StatusChannel {
        if let file {
            let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw SandboxError(.spawn, "cannot create status file \(file)", errno: errno, path: file)
            }
            return StatusChannel(readFD: -1, writeFD: fd, file: file)
        }
        var fds: [Int32] = [-1, -1]
        let rc = corral_pipe_cloexec(&fds)
        guard rc == 0 else { throw SandboxError(.spawn, "cannot create the status pipe", errno: -rc) }
        return StatusChannel(readFD: fds[0], writeFD: fds[1], file: nil)
    }

    /// The status PID 1 wrote, or nil when it wrote none (PID 1 itself was killed).
    func read() -> ExitStatus? {
        let text: String?
        if let file {
            text = try? FileIO.read(file)
        } else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(readFD, $0.baseAddress, $0.count) }
            text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
        return text.flatMap(ExitStatus.init(statusLine:))
    }

    func closeWriteEnd() { if writeFD >= 0 { close(writeFD) } }
    func closeReadEnd() { if readFD >= 0 { close(readFD) } }
}
