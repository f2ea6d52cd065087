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
        for stored in records {
            let id = stored.allocation.id
            entries[id] = Entry(allocation: stored.allocation, machine: stored.machine, adoption: stored.adoption)
            switch (stored.phase, stored.adoption) {
            case (.ended, _):
                continue
            case (.running, let adoption?):
                switch await sandbox.adopt(adoption) {
                case .running(let task):
                    logger.info("re-adopted a running task", metadata: ["allocation": "\(id)", "pid": "\(task.pid)"])
                    entries[id]?.task = task
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
    }

    /// Task logs are bounded by punching out their oldest bytes: a data directory on a filesystem that cannot
    /// (ext4, xfs, btrfs and tmpfs can) is refused at start rather than let logs grow without bound.
    static func checkHolePunching(in directory: String) throws {
        let probe = directory + "/.punch-probe"
        unlink(probe)
        let fd = open(probe, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AgentError.io("cannot create \(probe)", errno: errno) }
        defer {
            close(fd)
            unlink(probe)
        }
        let block = [UInt8](repeating: 1, count: 8192)
        var start: UInt64 = 0
        guard block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == 8192,
            LogTrimmer.trim(fd, start: &start, keep: 1024), LogTrimmer.firstData(fd) == 4096
        else {
            throw AgentError.configuration(
                "--data-dir: the filesystem of \(directory) cannot punch holes (fallocate FALLOC_FL_PUNCH_HOLE), "
                    + "so task logs could not be kept in bound: use ext4, xfs, btrfs or tmpfs")
        }
    }

    /// Kills and removes whatever a launch interrupted by a crash left: the task's cgroup in every
    /// hierarchy and its work directory.
    func undoLaunch(_ id: AllocationID) async {
        let relative = configuration.sandbox.cgroupParent + "/\(id)"
        if let cgroup = Cgroup.existing(relative, host: sandbox.host, owned: true) {
            try? await cgroup.killRemaining()
            try? await cgroup.remove()
        }
        try? FileIO.removeTree(configuration.sandbox.workRoot + "/\(id)")
    }
}
