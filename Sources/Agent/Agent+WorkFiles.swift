import CorralProtocol
import Foundation
import Logging
import Sandbox
import SystemSupport

/// Ended tasks' work directories, kept `workRetentionSeconds` for `corral alloc fs`, then removed.
extension Agent {
    func workDirectory(_ id: AllocationID) -> String { configuration.sandbox.workRoot + "/\(id)" }

    /// Whether the allocation's work directory may be read: its task runs here, or ended within the retention.
    func mayReadWork(_ id: AllocationID) -> Bool { isRunning(id) || retainedWork[id] != nil }

    /// Starts the retention of an ended task's work directory (removed at once without one).
    func retainWork(_ id: AllocationID) {
        guard configuration.workRetentionSeconds > 0 else {
            let path = workDirectory(id)
            let logger = logger
            Task.detached {
                do { try WorkDirectory.discard(path) } catch {
                    logger.warning(
                        "cannot remove a work directory", metadata: ["allocation": "\(id)", "error": "\(error)"])
                }
            }
            return
        }
        retainedWork[id] = Date().timeIntervalSince1970 + configuration.workRetentionSeconds
    }

    /// After a restart: work directories of tasks that no longer run get a full retention from now.
    func findRetainedWork() {
        let root = configuration.sandbox.workRoot
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names {
            guard let id = AllocationID(name), !isRunning(id), entries[id]?.machine.state != .launching else {
                continue
            }
            retainedWork[id] = Date().timeIntervalSince1970 + configuration.workRetentionSeconds
        }
    }

    /// Removes work directories whose retention is over, looked at every few seconds; at the same pace, a
    /// change of the node's images is registered (placement requires a job's image on its node).
    func sweepWorkIfDue() {
        let now = Date().timeIntervalSince1970
        guard now - lastWorkSweep >= 5 else { return }
        lastWorkSweep = now
        if imageLabels() != advertisedImages {
            Task {
                do { try await register() } catch {
                    logger.warning("cannot register the node's new images", metadata: ["error": "\(error)"])
                }
            }
        }
        for (id, until) in retainedWork where until <= now {
            retainedWork[id] = nil
            do { try WorkDirectory.discard(workDirectory(id)) } catch {
                logger.warning(
                    "cannot remove a work directory", metadata: ["allocation": "\(id)", "error": "\(error)"])
            }
        }
    }
}
