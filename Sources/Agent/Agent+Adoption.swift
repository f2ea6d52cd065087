import Cgroups
import CorralProtocol
import Foundation
import Logging
import Sandbox
import SystemSupport

extension Agent {
    /// Every allocation a previous run recorded: live tasks are supervised again, tasks that ended while no
    /// agent ran have their true status reported, and half-done launches are undone and reported failed.
    func adoptAll() async {
        let (records, errors) = store.loadAll()
        for error in errors { logger.error("unreadable allocation record", metadata: ["error": "\(error)"]) }
        var attachments: [AllocationID: NetworkAttachment] = [:]
        for stored in records {
            let id = stored.allocation.id
            entries[id] = Entry(
                allocation: stored.allocation, machine: stored.machine, adoption: stored.adoption,
                network: stored.network)
            switch (stored.phase, stored.adoption) {
            case (.ended, _):
                continue
            case (.running, let adoption?):
                switch await sandbox.adopt(adoption) {
                case .running(let task):
                    logger.info("re-adopted a running task", metadata: ["allocation": "\(id)", "pid": "\(task.pid)"])
                    entries[id]?.task = task
                    // The last run's relief is forgotten with it: a reclaimable task it left yielding gets its
                    // weight back (the next sample under pressure makes it yield again).
                    if stored.allocation.reclaimable == true { setYielding(id, false) }
                    if let network = stored.network { attachments[id] = network }
                    // Opened again (appending, as the task does) so that its logs are kept in bound.
                    entries[id]?.logs = try? TaskLogs(root: configuration.logsDir, allocation: id).open(
                        trimmer: trimmer)
                    watch(task, id)
                case .ended(let outcome):
                    logger.info("a task ended while the agent was down", metadata: ["allocation": "\(id)"])
                    handle(.exited(outcome), id)
                }
            case (.starting, _), (.running, nil):
                handle(.launchCutShort, id)
            }
        }
        findRetainedWork()
        // Adopted tasks keep their veths, addresses and ports; whatever else an earlier run left goes.
        await bridge?.restore(attachments)
    }

    /// Kills and removes whatever a launch interrupted by a crash left: the task's cgroup in every
    /// hierarchy and its work directory.
    func undoLaunch(_ id: AllocationID) async {
        let relative = configuration.sandbox.cgroupParent + "/\(id)"
        if let cgroup = Cgroup.existing(relative, host: sandbox.host, owned: true) {
            try? await cgroup.killRemaining()
            try? await cgroup.remove()
        }
        try? WorkDirectory.discard(configuration.sandbox.workRoot + "/\(id)")
    }
}
