import Cgroups
import CorralProtocol
import Foundation
import Sandbox
import Synchronization
import SystemSupport

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
    /// Why the agent evicted the task (the kill is then its own, and reported as an eviction).
    var evicted: String?
    /// The task's veth, address and published ports (bridge mode), kept while it runs.
    var network: NetworkAttachment?

    /// Everything of the record but the allocation itself: what a change appends (see `AllocationStore`).
    struct Change: Codable, Equatable {
        var phase: Phase
        var adoption: AdoptionRecord?
        var report: AllocationReport?
        var killRequested: Bool
        var network: NetworkAttachment?
        var evicted: String?
    }

    var change: Change {
        Change(
            phase: phase, adoption: adoption, report: report, killRequested: killRequested, network: network,
            evicted: evicted)
    }

    init(
        allocation: Allocation, phase: Phase, adoption: AdoptionRecord? = nil, report: AllocationReport? = nil,
        killRequested: Bool = false, network: NetworkAttachment? = nil
    ) {
        self.allocation = allocation
        self.phase = phase
        self.adoption = adoption
        self.report = report
        self.killRequested = killRequested
        self.network = network
    }

    /// The record of an allocation in `machine`'s state.
    init(allocation: Allocation, machine: AllocationMachine, adoption: AdoptionRecord?, network: NetworkAttachment?) {
        let phase: Phase =
            switch machine.state {
            case .accepted, .launching: .starting
            case .running: .running
            case .ended, .released: .ended
            }
        self.init(
            allocation: allocation, phase: phase, adoption: adoption, report: machine.report,
            killRequested: machine.killRequested, network: network)
        evicted = machine.evicted
    }

    /// The machine this record leaves: a launch under way, a running task, or an ended one.
    var machine: AllocationMachine {
        let state: AllocationMachine.State =
            switch phase {
            case .starting: .launching
            case .running: .running
            case .ended: .ended
            }
        return AllocationMachine(
            id: allocation.id, state: state, killRequested: killRequested, report: report, evicted: evicted)
    }

    mutating func apply(_ change: Change) {
        (phase, adoption, report, killRequested, network, evicted) = (
            change.phase, change.adoption, change.report, change.killRequested, change.network, change.evicted
        )
    }
}

/// `<data-dir>/allocations/<id>.json`, one JSON line per change of the allocation, appended: the whole
/// record first, then each change as the record without its allocation (`StoredAllocation.Change`),
/// which is all that changes (encoding the allocation again would be most of what a save costs). The
/// record is the last whole line with the last change after it that decodes (a line torn by a
/// power loss is skipped). Plus `<id>.status` that PID 1 writes the task's end to. One file per
/// allocation, created once: on ext4 a new inode costs about as much as the rest of a save, and a
/// replace-by-rename made three of them per task.
///
/// An ended allocation's record is fsynced, and the directory too (the file got its name by a rename)
/// before the ending is reported: once per heartbeat for all the endings it carries (`syncDirectory`),
/// which the ending's doorbell sends at once. Its outcome must reach the scheduler even after a power
/// loss. The starting and running records are not: they guard against the agent's own crash, which
/// the page cache survives, while a crash of the machine ends the tasks they describe anyway (the
/// scheduler finds the node down and places them again). That keeps two fsyncs off the path from an
/// allocation's arrival to its running report.
///
/// A delivered allocation's two files are not deleted but emptied and kept in `spare/`, and the next
/// allocations take them by rename: ext4 without a journal (this project's machines) checks every new
/// inode against each inode deleted in its group within the last 30-60 s (`recently_deleted`), so files
/// created and deleted per task would make every creation cost in proportion to the task rate. A rename
/// allocates and frees no inode.
struct AllocationStore: Sendable {
    let directory: String
    let spares: SpareFiles
    /// The directory itself, for fsyncs of its entries (kept open for the store's life).
    let directoryFD: Int32
    /// Set when an ended record was written since the directory's last fsync.
    let directoryDirty = DirtyFlag()

    init(directory: String, spareLimit: Int = 4096) throws {
        self.directory = directory
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        spares = try SpareFiles(directory: directory + "/spare", limit: spareLimit)
        directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directoryFD >= 0 else { throw AgentError.io("cannot open \(directory)", errno: errno) }
    }

    func statusFile(_ id: AllocationID) -> String { directory + "/\(id).status" }
    private func recordFile(_ id: AllocationID) -> String { directory + "/\(id).json" }

    /// Appends the record: whole to an empty file, otherwise as a change.
    func save(_ stored: StoredAllocation) throws {
        let path = recordFile(stored.allocation.id)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AgentError.io("cannot open \(path)", errno: errno) }
        defer { close(fd) }
        let encoder = JSONEncoder()
        let whole = (FileIO.size(fd) ?? 0) == 0
        var line = try whole ? encoder.encode(stored) : encoder.encode(stored.change)
        line.append(UInt8(ascii: "\n"))
        // One write(2) of the whole line: an agent killed meanwhile leaves the line whole or absent.
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            let err = errno
            if whole { ftruncate(fd, 0) }  // a short first line (disk full): the next save writes it whole again
            throw AgentError.io("cannot write \(path)", errno: err)
        }
        if stored.phase == .ended {
            guard fsync(fd) == 0 else { throw AgentError.io("cannot sync \(path)", errno: errno) }
            directoryDirty.set()
        }
    }

    /// Makes the names of ended records durable (one directory fsync for all written since the last).
    func syncDirectory() throws {
        guard directoryDirty.take() else { return }
        guard fsync(directoryFD) == 0 else {
            directoryDirty.set()
            throw AgentError.io("cannot sync \(directory)", errno: errno)
        }
    }

    /// The first record of a new allocation, in files taken from the spares where there are any.
    func create(_ stored: StoredAllocation) throws {
        let id = stored.allocation.id
        spares.take(as: recordFile(id))
        spares.take(as: statusFile(id))
        try save(stored)
    }

    func remove(_ id: AllocationID) {
        spares.keep(recordFile(id))
        spares.keep(statusFile(id))
    }

    /// Every record on disk; unreadable ones are returned as errors so that the caller can log them.
    func loadAll() -> (records: [StoredAllocation], errors: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var records: [StoredAllocation] = []
        var errors: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                if data.isEmpty {  // a spare taken by an agent that stopped before its first write
                    if let id = AllocationID(name.dropLast(".json".count)) { remove(id) } else { unlink(path) }
                    continue
                }
                records.append(try Self.latest(in: data))
            } catch {
                errors.append("\(path): \(error)")
            }
        }
        return (records, errors)
    }

    /// The last whole record in a record file with the last change after it applied; lines that decode as
    /// neither are skipped.
    static func latest(in data: Data) throws -> StoredAllocation {
        let decoder = JSONDecoder()
        var firstError: (any Error)?
        var change: StoredAllocation.Change?
        for line in data.split(separator: UInt8(ascii: "\n")).reversed() {
            do {
                var stored = try decoder.decode(StoredAllocation.self, from: Data(line))
                if let change { stored.apply(change) }
                return stored
            } catch {
                firstError = firstError ?? error
            }
            if change == nil { change = try? decoder.decode(StoredAllocation.Change.self, from: Data(line)) }
        }
        throw firstError ?? AgentError.configuration("empty allocation record")
    }
}

/// A flag set by writers and taken (read and cleared) by the one who acts on it.
final class DirtyFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    func take() -> Bool { value.exchange(false, ordering: .acquiringAndReleasing) }
}

/// Emptied files kept for reuse by rename (see `AllocationStore`), named by a counter. At most `limit`
/// are kept; beyond that a file is deleted.
final class SpareFiles: Sendable {
    let directory: String
    let limit: Int
    private let state: Mutex<(names: [String], next: UInt64)>

    init(directory: String, limit: Int) throws {
        self.directory = directory
        self.limit = limit
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            UInt64($0) != nil
        }
        state = Mutex((names, (names.compactMap { UInt64($0) }.max() ?? 0) + 1))
    }

    var count: Int { state.withLock { $0.names.count } }

    /// Moves a spare to `path` (which must not exist), if one is left; otherwise the caller's O_CREAT
    /// makes a new file there.
    func take(as path: String) {
        guard let name = state.withLock({ $0.names.popLast() }) else { return }
        rename(directory + "/" + name, path)
    }

    /// Empties the file at `path` and keeps it as a spare, or deletes it when there are enough. A
    /// missing file is fine (a launch that failed before its status file).
    func keep(_ path: String) {
        let name: String? = state.withLock { state in
            guard state.names.count < limit else { return nil }
            defer { state.next += 1 }
            return String(state.next)
        }
        guard let name, truncate(path, 0) == 0, rename(path, directory + "/" + name) == 0 else {
            unlink(path)
            return
        }
        state.withLock { $0.names.append(name) }
    }
}

/// What goes wrong in the agent itself, with the file and errno where there is one.
public enum AgentError: Error, CustomStringConvertible, Sendable {
    case io(String, errno: Int32)
    case configuration(String)
    /// A task's network could not be set up (bridge, veth, addresses, nftables).
    case network(String)

    /// The filesystem is out of space (or of the user's quota).
    var isDiskFull: Bool {
        if case .io(_, let errno) = self { return errno == ENOSPC || errno == EDQUOT }
        return false
    }

    public var description: String {
        switch self {
        case .io(let what, let errno): "\(what): \(String(cString: strerror(errno))) (errno \(errno))"
        case .configuration(let what): what
        case .network(let what): what
        }
    }
}
