import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Logging
import Sandbox
import SystemSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Checkpoints: every task has `CORRAL_CHECKPOINT_DIR` (`/work/checkpoint`). Every `checkpointInterval`
/// and when the task ends, the agent snapshots that directory (by descriptor; links and special files
/// left out) and hands it to the scheduler, which keeps the latest per task; the task's next attempt, on
/// whatever node, starts with it in place.
extension Agent {
    static let checkpointDirectory = "checkpoint"
    static let checkpointMount = "/work/checkpoint"

    /// Where a task is in its checkpoints: the listing of the last snapshot handed over (an unchanged
    /// directory is not read again), when the next is due, and what the scheduler was told.
    struct CheckpointState {
        var listing: [String]?
        var due: Double = 0
        var busy = false
        var status: CheckpointStatus?
        var reported: CheckpointStatus?
    }

    /// Snapshots the running tasks whose interval has passed, off the actor.
    func checkpointIfDue() {
        let now = Date().timeIntervalSince1970
        for (id, entry) in entries where entry.task != nil && !entry.checkpoint.busy {
            guard let interval = entry.allocation.checkpointIntervalMs, now >= entry.checkpoint.due else { continue }
            entries[id]?.checkpoint.due = now + Double(interval) / 1000
            entries[id]?.checkpoint.busy = true
            Task { await self.checkpoint(id) }
        }
    }

    /// Takes one snapshot of the task's checkpoint directory and hands it over, unless it is unchanged.
    func checkpoint(_ id: AllocationID) async {
        defer { entries[id]?.checkpoint.busy = false }
        guard let entry = entries[id], let limit = entry.allocation.checkpointLimit else { return }
        let root = workDirectory(id)
        let previous = entry.checkpoint.listing
        let result = await Task.detached(priority: .utility) {
            () -> Result<([UInt8], [String])?, CheckpointArchive.Failure> in
            let fd = Self.openCheckpointDirectory(root)
            guard fd >= 0 else {
                return .failure(.unreadable("the checkpoint directory is gone or not a directory (errno \(errno))"))
            }
            defer { close(fd) }
            let listing = CheckpointArchive.listing(of: fd)
            if listing == previous { return .success(nil) }
            // Nothing was ever kept and nothing is there: nothing to hand over.
            if previous == nil && listing.isEmpty { return .success(nil) }
            do throws(CheckpointArchive.Failure) {
                return .success((try CheckpointArchive.pack(fd, limit: limit), listing))
            } catch { return .failure(error) }
        }.value
        let now = Date().timeIntervalSince1970
        switch result {
        case .success(nil):
            return
        case .success(let (archive, listing)?):
            do {
                try await client.putCheckpoint(node: configuration.nodeID, allocation: id, archive)
                entries[id]?.checkpoint.listing = listing
                entries[id]?.checkpoint.status = CheckpointStatus(at: now, bytes: UInt64(archive.count))
            } catch {
                logger.warning("cannot hand over a checkpoint", metadata: ["allocation": "\(id)", "error": "\(error)"])
                let status = skipped(id, "the scheduler did not take it: \(error)", at: now)
                entries[id]?.checkpoint.status = status
            }
        case .failure(let failure):
            let status = skipped(id, failure.description, at: now)
            entries[id]?.checkpoint.status = status
        }
        doorbell.ring()
    }

    /// The status after a skipped snapshot: the last one kept stays, with why this one was not.
    func skipped(_ id: AllocationID, _ why: String, at time: Double) -> CheckpointStatus {
        let last = entries[id]?.checkpoint.status
        return CheckpointStatus(at: last?.at ?? time, bytes: last?.skipped == nil ? last?.bytes ?? 0 : 0, skipped: why)
    }

    static func openCheckpointDirectory(_ workDirectory: String) -> Int32 {
        let work = open(workDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard work >= 0 else { return -1 }
        defer { close(work) }
        return openat(work, checkpointDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    }

    /// The task's latest checkpoint, when its attempt is not the first: fetched before the launch, written
    /// into its new checkpoint directory while PID 1 waits (so the task starts with it in place).
    func restoration(for allocation: Allocation) async throws -> (@Sendable (Int32) async throws -> Void)? {
        guard allocation.attempt > 1, allocation.checkpointLimit != nil else { return nil }
        let archive: [UInt8]?
        do { archive = try await client.checkpoint(node: configuration.nodeID, allocation: allocation.id) } catch {
            throw AgentError.network("cannot fetch the task's checkpoint from the scheduler: \(error)")
        }
        guard let archive else { return nil }
        let root = workDirectory(allocation.id)
        let logger = logger
        let id = allocation.id
        return { _ in
            let fd = Self.openCheckpointDirectory(root)
            guard fd >= 0, let owner = FileMetadata.of(fd) else {
                throw SandboxError(.workDirectory, "cannot open the task's checkpoint directory", errno: errno)
            }
            defer { close(fd) }
            do throws(CheckpointArchive.Failure) {
                try CheckpointArchive.unpack(archive, into: fd, uid: owner.uid, gid: owner.gid)
            } catch {
                throw SandboxError(.workDirectory, "cannot restore the task's checkpoint: \(error)")
            }
            logger.info("checkpoint restored", metadata: ["allocation": "\(id)", "bytes": "\(archive.count)"])
        }
    }
}
