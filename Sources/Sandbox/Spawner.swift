import CSandbox
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The helper process that clones sandboxes for this one (CSandbox/spawner.c): this binary re-executed
/// via /proc/self/exe, serving requests on a socket. Launch cost then stays that of a small process however
/// large the agent grows. Requests are serialized; a spawner that died is restarted once per request, and
/// without one the caller clones in-process.
final class Spawner: Sendable {
    private struct Process {
        var socket: Int32
        var pid: pid_t
    }

    private let process = Mutex<Process?>(nil)
    private let logger: Logger

    init?(logger: Logger) {
        self.logger = logger
        guard let started = Self.start(logger: logger) else { return nil }
        process.withLock { $0 = started }
    }

    /// Clones PID 1 through the spawner. nil when no spawner could serve it (the caller clones itself).
    func spawn(_ cfg: inout corral_spawn_config, _ handle: inout corral_spawn_handle) -> Int32? {
        process.withLock { current -> Int32? in
            for attempt in 0..<2 {
                if current == nil, attempt > 0 { current = Self.start(logger: logger) }
                guard let live = current else { return nil }
                let rc = corral_spawn_via(live.socket, &cfg, &handle)
                guard rc == -EPIPE || rc == -ECONNRESET else { return rc == -E2BIG ? nil : rc }
                logger.warning("the spawner exited; starting a new one", metadata: ["pid": "\(live.pid)"])
                Self.stop(live)
                current = nil
            }
            return nil
        }
    }

    /// The current spawner's pid (for tests and diagnostics).
    var pid: pid_t? { process.withLock { $0?.pid } }

    private static func start(logger: Logger) -> Process? {
        var pid: pid_t = 0
        let socket = corral_spawner_start("/proc/self/exe", &pid)
        guard socket >= 0 else {
            logger.warning("no spawner; cloning in-process", metadata: ["errno": "\(-socket)"])
            return nil
        }
        return Process(socket: socket, pid: pid)
    }

    private static func stop(_ process: Process) {
        close(process.socket)  // EOF: the spawner leaves
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
    }

    deinit {
        process.withLock { current in
            if let live = current { Self.stop(live) }
        }
    }
}
