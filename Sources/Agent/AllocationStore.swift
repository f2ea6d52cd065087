import Foundation
import Sandbox
import Scheduler

/// One allocation as the agent keeps it on disk, so that a restarted agent neither loses nor repeats it.
struct StoredAllocation: Sendable, Codable, Equatable {
    enum Phase: String, Sendable, Codable {
        /// Written before the launch: found at start, the launch may or may not have happened.
        case starting
        /// Launched; `adoption` finds the task again.
        case running
        /// Ended; `report` waits to be delivered to the scheduler.
        case ended
    }

    var allocation: Allocation
    var phase: Phase
    var adoption: AdoptionRecord?
    var report: AllocationReport?
    /// Whether the scheduler asked for the kill (the end is then reported as killed, not failed).
    var killRequested = false
}

/// `<data-dir>/allocations/<id>.json`, each replaced atomically (write to a temporary file, fsync,
/// rename), plus `<id>.status` that PID 1 writes the task's end to.
struct AllocationStore: Sendable {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func statusFile(_ id: String) -> String { directory + "/" + id + ".status" }
    private func recordFile(_ id: String) -> String { directory + "/" + id + ".json" }

    func save(_ stored: StoredAllocation) throws {
        let data = try JSONEncoder().encode(stored)
        let path = recordFile(stored.allocation.id)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AgentError.io("cannot create \(temporary)", errno: errno) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            throw AgentError.io("cannot write \(temporary)", errno: errno)
        }
        guard rename(temporary, path) == 0 else { throw AgentError.io("cannot rename \(temporary)", errno: errno) }
    }

    func remove(_ id: String) {
        unlink(recordFile(id))
        unlink(statusFile(id))
    }

    /// Every record on disk; unreadable ones are returned as errors so that the caller can log them.
    func loadAll() -> (records: [StoredAllocation], errors: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var records: [StoredAllocation] = []
        var errors: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            do {
                records.append(
                    try JSONDecoder().decode(StoredAllocation.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                errors.append("\(path): \(error)")
            }
        }
        for name in names where name.hasSuffix(".json.tmp") { unlink(directory + "/" + name) }
        return (records, errors)
    }
}

/// What goes wrong in the agent itself, with the file and errno where there is one.
public enum AgentError: Error, CustomStringConvertible, Sendable {
    case io(String, errno: Int32)
    case configuration(String)

    public var description: String {
        switch self {
        case .io(let what, let errno): "\(what): \(String(cString: strerror(errno))) (errno \(errno))"
        case .configuration(let what): what
        }
    }
}
