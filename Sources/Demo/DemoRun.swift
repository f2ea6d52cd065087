import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Placement
import Scheduler
import SchedulerService

/// One run of the demo workload: submits, follows every task's state changes, and sums up.
struct DemoRun {
    let cluster: LocalCluster
    let started: ContinuousClock.Instant
    let say: @Sendable (String) -> Void
    var submitted: [(job: DemoWorkload.Job, id: String)] = []
    var rejected: [(job: DemoWorkload.Job, message: String)] = []
    var waited: [String: String] = [:]
    var seen: [String: String] = [:]
    var placements: [String: Set<String>] = [:]

    init(cluster: LocalCluster, started: ContinuousClock.Instant, say: @escaping @Sendable (String) -> Void) {
        self.cluster = cluster
        self.started = started
        self.say = say
    }

    var elapsed: String {
        let seconds = (ContinuousClock.now - started).inSeconds
        return String(format: "%6.1fs", seconds)
    }

    mutating func submit(_ job: DemoWorkload.Job) async throws {
        let client = cluster.client(token: cluster.config.tenants[job.tenant]?.token)
        do {
            let view = try await client.submit(try DemoWorkload.body(job))
            submitted.append((job, view.id.rawValue))
            say("  \(pad(job.name, 12)) \(pad(job.tenant, 9)) \(view.id)  \(job.what)")
        } catch let error as APIError {
            rejected.append((job, "\(error.status) \(error.code): \(error.message)"))
            say(
                "  \(pad(job.name, 12)) \(pad(job.tenant, 9)) refused: \(error.status) \(error.code) — \(error.message)"
            )
        }
    }

    /// Polls the scheduler, printing each task's changes and the nodes' load, until every job has ended.
    mutating func follow(deadline: Duration) async throws {
        let client = cluster.client()
        let end = ContinuousClock.now + deadline
        var lastNodes = ContinuousClock.now
        while ContinuousClock.now < end {
            var finished = true
            for (job, id) in submitted {
                let view = try await client.job(id)
                if let reason = view.waitingFor, waited[job.name] == nil {
                    waited[job.name] = reason
                    say("\(elapsed)  \(pad(job.name, 16)) waiting: \(reason)")
                }
                if !view.state.isTerminal { finished = false }
                for task in try await client.tasks(id) { note(job.name, task) }
            }
            if ContinuousClock.now - lastNodes >= .seconds(2) || finished {
                lastNodes = .now
                let nodes = try await client.nodes()
                let line = nodes.map { node in
                    "\(node.id) \(node.running) running, cpu \(percent(node.usage.cpu)) mem \(percent(node.usage.memory))"
                }
                say("\(elapsed)  nodes: " + line.joined(separator: " · "))
            }
            if finished { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        say("\(elapsed)  the workload did not finish within \(deadline); summing up what happened")
    }

    mutating func note(_ job: String, _ task: TaskView) {
        let key = "\(job)/\(task.index)"
        let state = "\(task.state.rawValue) \(task.attempt)"
        guard seen[key] != state else { return }
        seen[key] = state
        if let node = task.node, let allocation = task.allocation {
            placements[node.rawValue, default: []].insert(allocation.description)
        }
        var detail = task.node.map { "on \($0)" } ?? ""
        if task.attempt > 1 { detail += " (attempt \(task.attempt))" }
        switch task.state {
        case .failed, .lost:
            detail += ": " + (task.lastError ?? "no error given")
        case .pending where task.attempt > 0:
            detail = "retry after: " + (task.lastError ?? "an error")
        case .completed:
            if let peak = task.outcome?.memoryPeakBytes { detail += ", peak memory \(ByteSize.format(peak))" }
        default: break
        }
        say("\(elapsed)  \(pad(key, 16)) \(pad(task.state.rawValue, 10)) \(detail)")
    }

    func summary(dataDir: String) async throws -> DemoSummary {
        let client = cluster.client()
        var jobs: [DemoSummary.Job] = []
        var lost = 0
        for (job, id) in submitted {
            let view = try await client.job(id)
            let tasks = try await client.tasks(id).map { task in
                DemoSummary.Task(
                    index: task.index, state: task.state.rawValue, attempts: task.attempt, node: task.node?.rawValue,
                    exitCode: task.exitCode, error: task.lastError, oomKilled: task.outcome?.oomKilled ?? false,
                    memoryPeakBytes: task.outcome?.memoryPeakBytes)
            }
            lost += tasks.filter { $0.state == "lost" }.count
            var result = DemoSummary.Job(
                name: job.name, tenant: job.tenant, id: id, what: job.what, expected: job.expect,
                state: view.state.rawValue,
                waitedFor: waited[job.name], rejection: nil, tasks: tasks, ok: false)
            result.ok = Self.check(result)
            jobs.append(result)
        }
        for (job, message) in rejected {
            jobs.append(
                DemoSummary.Job(
                    name: job.name, tenant: job.tenant, id: nil, what: job.what, expected: job.expect,
                    state: "rejected",
                    waitedFor: nil, rejection: message, tasks: [], ok: job.expect == "rejected"))
        }
        return DemoSummary(
            jobs: jobs, placements: placements.mapValues(\.count), lost: lost,
            seconds: (ContinuousClock.now - started).inSeconds, dataDir: dataDir,
            ok: jobs.allSatisfy(\.ok) && lost == 0)
    }

    /// Whether a job showed what it is in the demo for.
    static func check(_ job: DemoSummary.Job) -> Bool {
        guard job.state == job.expected else { return false }
        switch job.name {
        case "memory-hog": return job.tasks.allSatisfy(\.oomKilled)
        case "flaky": return job.tasks.allSatisfy { $0.attempts == 2 }
        case "report": return job.waitedFor?.contains("quota") ?? false
        case "fork-bomb": return job.tasks.allSatisfy { !$0.oomKilled && $0.exitCode != 0 }
        default: return true
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func percent(_ fraction: Double) -> String { String(format: "%.0f%%", fraction * 100) }
