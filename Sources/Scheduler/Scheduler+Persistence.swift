import Logging
import Store

/// How the scheduler's changes reach the store: task records in as few transactions as its limits allow,
/// ended jobs removed past their retention, and old revisions compacted.
extension Scheduler {
    /// Removes ended jobs past `endedJobRetention` from the store and then from memory, a batch at a time.
    public func removeExpiredJobs() async throws {
        lastSweep = now()
        let expired =
            core.expiredJobs(now: lastSweep, limit: 1000) + core.expiredRuns(now: lastSweep, limit: 1000)
        guard !expired.isEmpty else { return }
        try await store.apply(
            expired.flatMap {
                [.delete(StoreKeys.job($0)), .deletePrefix(StoreKeys.tasks(of: $0)), .delete(StoreKeys.schedule($0))]
            })
        for id in expired {
            core.remove(job: id)
            checkpoints?.remove(prefix: StoreKeys.checkpoints(of: id))
        }
        logger.info("removed ended jobs past their retention", metadata: ["jobs": "\(expired.count)"])
    }

    /// Compacts the store's history up to the revision it had `compactionRetention` ago (etcd keeps every
    /// revision until compacted, and its space quota counts them).
    public func compactIfDue() async throws {
        let time = now()
        revisionMarks.append((time, try await store.list(prefix: StoreKeys.nodes, limit: 1).revision))
        guard let old = revisionMarks.lastIndex(where: { time - $0.time >= Self.compactionRetention }) else { return }
        try await store.compact(upTo: revisionMarks[old].revision)
        logger.debug("compacted the store's history", metadata: ["upTo": "\(revisionMarks[old].revision)"])
        revisionMarks.removeFirst(old + 1)
    }

    /// Writes task records (and `also`, last): in one transaction where the store allows, else in several,
    /// each record whole. Jobs whose upstream jobs just ended are settled first, and what that changed is
    /// written with them.
    func persist(_ records: [TaskRecord], also: [Op] = []) async throws {
        var records = records
        var also = also
        if !core.graph.isSettled {
            let settled = core.settleDependencies(now: now())
            records += settled.tasks
            also = try settled.jobs.map { Op.put(StoreKeys.job($0.id), try encode($0)) } + also
            if !settled.jobs.isEmpty { wakeAll() }
        }
        guard !records.isEmpty || !also.isEmpty else { return }
        try await store.apply(try records.map { Op.put(StoreKeys.task($0.id), try encode($0)) } + also)
    }
}
