import Cgroups
import Foundation
import Logging
import Sandbox
import Scheduler

extension Agent {
    /// Every allocation a previous run recorded: live tasks are supervised again, tasks that ended while no
    /// agent ran have their true status reported, and half-done launches are undone and reported failed.
    func adoptAll() async {
        let (records, errors) = store.loadAll()
        for error in errors { logger.error("unreadable allocation record", metadata: ["error": "\(error)"]) }
        for var stored in records {
            let id = stored.allocation.id
            switch stored.phase {
            case .ended:
                entries[id] = Entry(stored: stored)
            case .running where stored.adoption != nil:
                switch await sandbox.adopt(stored.adoption!) {
                case .running(let task):
                    logger.info("re-adopted a running task", metadata: ["allocation": "\(id)", "pid": "\(task.pid)"])
                    entries[id] = Entry(stored: stored, task: task)
                    watch(task)
                case .ended(let outcome):
                    logger.info("a task ended while the agent was down", metadata: ["allocation": "\(id)"])
                    entries[id] = Entry(stored: stored)
                    ended(id, outcome)
                }
            case .starting, .running:
                await undoLaunch(id)
                stored.phase = .ended
                stored.report = AllocationReport(
                    id: id, state: .failed, error: "the agent restarted while launching the task; the launch was undone"
                )
                record(stored)
            }
        }
    }

    /// Kills and removes whatever a launch interrupted by a crash left: the task's cgroup in every
    /// hierarchy and its work directory.
    func undoLaunch(_ id: String) async {
        let relative = configuration.sandbox.cgroupParent + "/" + id
        if let cgroup = Cgroup.existing(relative, host: sandbox.host, owned: true) {
            try? await cgroup.killRemaining()
            try? await cgroup.remove()
        }
        try? FileIO.removeTree(configuration.sandbox.workRoot + "/" + id)
    }
}
