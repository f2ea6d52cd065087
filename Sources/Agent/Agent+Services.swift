import CorralModel
import CorralProtocol
import Foundation
import Logging
import Sandbox
import SystemSupport

/// Service tasks: restarted in place when they exit or fail their health checks, within their restart
/// policy; past it the allocation ends (`fail`) or waits out the policy's interval (`delay`).
extension Agent {
    /// A run of the allocation's task ended: a service task starts again (after its policy's delay) unless it
    /// was asked to stop or its restarts are used up; anything else ends the allocation.
    func taskEnded(_ outcome: TaskOutcome, _ id: AllocationID) async {
        entries[id]?.checks?.cancel()
        entries[id]?.checks = nil
        // The last snapshot, taken once its processes are gone (and before its work directory is).
        if entries[id]?.allocation.checkpointLimit != nil {
            while entries[id]?.checkpoint.busy == true { try? await Task.sleep(for: .milliseconds(20)) }
            entries[id]?.checkpoint.busy = true
            await checkpoint(id)
        }
        guard let entry = entries[id], let policy = entry.allocation.restart, entry.machine.state == .running,
            !entry.machine.killRequested, let delay = restartDelay(id, policy)
        else { return handle(.exited(outcome), id) }
        entries[id]?.task = nil
        entries[id]?.restartOutcome = outcome
        var health = entry.health ?? TaskHealth()
        health.restarts += 1
        // Unhealthy, the failed check's output says why; otherwise how the task ended does.
        let reason = health.status == .unhealthy ? "unhealthy, " + health.output : outcome.summary
        if health.status != .unhealthy { health.status = .unknown }
        health.output = TaskHealth.clip("restarting in \(delay) after \(reason)")
        entries[id]?.health = health
        doorbell.ring()
        logger.info(
            "restarting a service task",
            metadata: ["allocation": "\(id)", "after": "\(outcome.summary)", "in": "\(delay)"])
        try? await Task.sleep(for: delay)
        await restart(id)
    }

    /// The delay before the next restart, or nil when the policy says the allocation fails now.
    func restartDelay(_ id: AllocationID, _ policy: RestartPolicy) -> Duration? {
        let now = Date().timeIntervalSince1970
        var times = (entries[id]?.restartTimes ?? []).filter { now - $0 < policy.interval.inSeconds }
        var delay = policy.delay
        if times.count >= policy.attempts {
            guard policy.mode == .delay, let oldest = times.first else { return nil }
            delay = max(delay, .milliseconds(Int64((oldest + policy.interval.inSeconds - now) * 1000)))
            times.removeFirst()
        }
        times.append(now + delay.inSeconds)
        entries[id]?.restartTimes = times
        return delay
    }

    /// Starts the service task again with a fresh work directory, the same address and ports.
    func restart(_ id: AllocationID) async {
        guard let entry = entries[id], let outcome = entry.restartOutcome else { return }
        guard entry.machine.state == .running, !entry.machine.killRequested else { return handle(.exited(outcome), id) }
        try? WorkDirectory.discard(workDirectory(id))
        retainedWork[id] = nil
        let task: SandboxedTask
        do { task = try await start(entry.allocation) } catch {
            logger.warning("a service task could not restart", metadata: ["allocation": "\(id)", "error": "\(error)"])
            return handle(.exited(outcome), id)
        }
        entries[id]?.restartOutcome = nil
        entries[id]?.task = task
        entries[id]?.adoption = task.record
        if let stored = entries[id]?.stored {
            do { try store.save(stored) } catch {
                logger.error("cannot record a restarted task", metadata: ["allocation": "\(id)", "error": "\(error)"])
            }
        }
        // A kill that came while it was starting.
        if entries[id]?.machine.killRequested == true { Task { await task.stop() } }
        watch(task, id)
    }

    /// Runs the allocation's health checks while its task runs: each on its interval; a check failing
    /// `unhealthyAfter` times in a row makes the task unhealthy and restarts it.
    func startChecks(_ id: AllocationID) {
        guard let checks = entries[id]?.allocation.checks, !checks.isEmpty else { return }
        if entries[id]?.health == nil { entries[id]?.health = TaskHealth() }
        entries[id]?.checks = Task {
            var failures = [Int](repeating: 0, count: checks.count)
            var passed = [Bool](repeating: false, count: checks.count)
            var everPassed = [Bool](repeating: false, count: checks.count)
            let started = ContinuousClock.now
            var due = checks.map { started + $0.interval }
            while !Task.isCancelled {
                guard let next = due.min() else { return }
                try? await Task.sleep(until: next)
                if Task.isCancelled { return }
                for (index, check) in checks.enumerated() where due[index] <= .now {
                    due[index] = .now + check.interval
                    guard let target = self.probeTarget(id) else { return }
                    let (ok, output) = await HealthProbe.run(check, target)
                    if Task.isCancelled { return }
                    // Starting up: failures before the first pass, within the grace, do not count.
                    let starting = !everPassed[index] && ContinuousClock.now - started < check.grace
                    failures[index] = ok || starting ? 0 : failures[index] + 1
                    passed[index] = ok
                    everPassed[index] = everPassed[index] || ok
                    let unhealthy = zip(checks, failures).contains { $0.unhealthyAfter <= $1 }
                    let status: TaskHealth.Status =
                        unhealthy ? .unhealthy : passed.allSatisfy { $0 } ? .healthy : .unknown
                    if self.noteHealth(id, status, output: "\(check.type.rawValue): \(output)"), unhealthy {
                        await self.entries[id]?.task?.stop()
                        return
                    }
                }
            }
        }
    }

    func probeTarget(_ id: AllocationID) -> HealthProbe.Target? {
        guard let entry = entries[id], let task = entry.task else { return nil }
        var environment = taskEnvironment(entry.allocation)
        if let network = entry.network { environment.merge(Self.environment(of: network)) { _, ours in ours } }
        return HealthProbe.Target(
            address: entry.network?.address.description, ports: entry.network?.ports ?? [], task: task,
            sandbox: sandbox, environment: environment)
    }

    /// Records a check's result; true when the task just became unhealthy.
    func noteHealth(_ id: AllocationID, _ status: TaskHealth.Status, output: String) -> Bool {
        guard var health = entries[id]?.health else { return false }
        let before = health.status
        health.status = status
        health.output = TaskHealth.clip(output)
        health.checkedAt = Date().timeIntervalSince1970
        entries[id]?.health = health
        if before != status {
            doorbell.ring()
            logger.info(
                "service task health", metadata: ["allocation": "\(id)", "status": "\(status)", "output": "\(output)"])
        }
        return before != .unhealthy && status == .unhealthy
    }
}
