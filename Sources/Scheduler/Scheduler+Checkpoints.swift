import CorralModel
import CorralProtocol
import Store

/// Tasks' checkpoints in the scheduler: the agent running an attempt hands over snapshots, the latest per
/// task is kept (`CheckpointStore`), and the agent of the next attempt fetches it.
extension Scheduler {
    public enum CheckpointRefusal: Error, Sendable, Equatable {
        /// Not an attempt of this node, or of a task the scheduler holds (or no checkpoint store).
        case unknown
        case tooLarge(limit: UInt64)
        case disabled
    }

    /// The job of an allocation `node` runs (or just ran), if it does.
    func checkpointJob(_ allocation: AllocationID, node: NodeID) -> JobRecord? {
        guard let record = core.table[allocation.task], let job = core.job(allocation.task.job) else { return nil }
        let current = record.allocation == allocation && record.machine.node == node
        let justEnded = record.machine.lastNode == node && record.machine.attempt == allocation.attempt
        return current || justEnded ? job : nil
    }

    /// The most an allocation's checkpoint may weigh (its job's `checkpointLimit`), or why none is taken.
    public func checkpointLimit(_ allocation: AllocationID, node: NodeID) throws(CheckpointRefusal) -> UInt64 {
        guard checkpoints != nil, let job = checkpointJob(allocation, node: node) else { throw .unknown }
        guard job.spec.checkpointLimit > 0 else { throw .disabled }
        return job.spec.checkpointLimit
    }

    /// Keeps a snapshot as its task's latest checkpoint.
    public func storeCheckpoint(_ archive: [UInt8], allocation: AllocationID, node: NodeID) throws {
        let limit = try checkpointLimit(allocation, node: node)
        guard UInt64(archive.count) <= limit else { throw CheckpointRefusal.tooLarge(limit: limit) }
        try checkpoints?.put(StoreKeys.checkpoint(allocation.task), archive)
    }

    /// The latest checkpoint of the task an allocation placed on `node` belongs to; nil when it has none.
    public func checkpoint(for allocation: AllocationID, node: NodeID) throws(CheckpointRefusal) -> [UInt8]? {
        guard let checkpoints, let record = core.table[allocation.task], record.allocation == allocation,
            record.machine.node == node
        else { throw .unknown }
        return checkpoints.get(StoreKeys.checkpoint(allocation.task))
    }
}
