/// Agent: the node daemon. It registers the node, heartbeats usage and allocation states, long-polls
/// for new allocations, runs them through the Sandbox, and keeps every allocation on disk so that a
/// restarted agent finds its tasks again (and starts none twice).
import API
import Cgroups
import CorralModel
import Foundation
import Logging
import Placement
import Sandbox
import Scheduler
import ServiceLifecycle

public actor Agent {
    public nonisolated let configuration: AgentConfiguration
    let sandbox: Sandbox
    let client: SchedulerClient
    let store: AllocationStore
    let logger: Logger
    var sampler: NodeSampler
    var entries: [String: Entry] = [:]
    var interval: Double = 5
    var nodeLoad = NodeLoad.idle
    var lastSample: Double = 0
    let doorbell = Doorbell()

    struct Entry {
        var stored: StoredAllocation
        var task: SandboxedTask?
        var usage: AllocationUsage?
        /// The usage a delivered heartbeat carried last.
        var reportedUsage: AllocationUsage?
        /// The agent's descriptors of the task's log files, while it runs here.
        var logs: OpenLogs?
    }

    public init(configuration: AgentConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        Self.raiseDescriptorLimit(logger: logger)
        sandbox = try Sandbox(config: configuration.sandbox, logger: logger)
        client = SchedulerClient(baseURL: configuration.schedulerURL, token: configuration.token)
        store = try AllocationStore(directory: configuration.allocationsDir)
        try FileManager.default.createDirectory(atPath: configuration.logsDir, withIntermediateDirectories: true)
        try CgroupParent.prepare(configuration.sandbox.cgroupParent, host: sandbox.host)
        sampler = NodeSampler(configuration: configuration, host: sandbox.host)
    }

    /// Each supervised task keeps a few descriptors open (its usage files), so the agent raises its soft
    /// limit on open files to the hard limit, as a systemd service's default soft limit is 1024.
    static func raiseDescriptorLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let soft = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.warning("cannot raise the open-file limit", metadata: ["soft": "\(soft)", "errno": "\(errno)"])
        }
    }

    /// Finds the tasks a previous run left, registers, then heartbeats and long-polls until cancelled.
    /// Cancelling stops the agent and leaves its tasks running for the next one to adopt.
    public func run() async throws {
        await adoptAll()
        TaskLogs.prune(root: configuration.logsDir, olderThan: 24 * 3600)
        let server = try configuration.listen.map {
            try AgentServer.application(agent: self, listen: $0, logger: logger)
        }
        try await registerUntilAccepted()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.pollLoop() }
            if let server {
                group.addTask {
                    do { try await server.run() } catch {
                        self.logger.error("the log server stopped", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Whether the allocation runs here now (launched or launching, not yet ended).
    func isRunning(_ id: String) -> Bool {
        guard let entry = entries[id] else { return false }
        return entry.stored.phase != .ended
    }

    // MARK: Talking to the scheduler

    func registerUntilAccepted() async throws {
        var delay = 0.2
        while true {
            do {
                apply(try await client.register(registration()))
                logger.info(
                    "registered",
                    metadata: ["node": "\(configuration.nodeID)", "scheduler": "\(configuration.schedulerURL)"])
                return
            } catch let error as APIError where (400..<500).contains(error.status) {
                throw error  // a wrong token or registration: retrying will not help
            } catch {
                try Task.checkCancellation()
                logger.warning("cannot register yet", metadata: ["error": "\(error)", "retry": "\(delay)s"])
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                delay = min(delay * 2, 5)
            }
        }
    }

    func registration() -> Registration {
        var info = ["cgroupMode": sandbox.host.mode.rawValue, "kernel": HostReport.kernelRelease()]
        if let listen = configuration.listen { info["address"] = "http://\(listen)" }
        return Registration(
            node: configuration.nodeID, capacity: sampler.capacity, labels: configuration.labels, info: info)
    }

    func heartbeatLoop() async {
        while !Task.isCancelled {
            sampleIfDue()
            let reports = entries.values.compactMap(Self.report)
            let delivered = reports.filter { $0.state != .running }.map(\.id)
            do {
                let orders = try await client.heartbeat(
                    node: configuration.nodeID, Heartbeat(usage: nodeLoad, reports: reports))
                for id in delivered {
                    entries[id] = nil
                    store.remove(id)
                }
                for report in reports where report.state == .running && report.usage != nil {
                    entries[report.id]?.reportedUsage = report.usage
                }
                apply(orders)
            } catch {
                await recover(from: error, in: "heartbeat")
            }
            await doorbell.wait(timeout: .milliseconds(Int64(interval * 1000)))
        }
    }

    func pollLoop() async {
        while !Task.isCancelled {
            do {
                apply(try await client.poll(node: configuration.nodeID, wait: 20))
            } catch {
                await recover(from: error, in: "poll")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// A failed request: re-register when the scheduler no longer knows the node, otherwise log it.
    func recover(from error: any Error, in request: String) async {
        if Task.isCancelled { return }
        if let error = error as? APIError, error.code == "unknown_node" {
            _ = try? await client.register(registration())
            return
        }
        logger.warning("\(request) failed", metadata: ["error": "\(error)"])
    }

    func apply(_ orders: AgentOrders) {
        interval = max(orders.heartbeatIntervalSeconds, 0.05)
        for id in orders.kills { kill(id) }
        for allocation in orders.allocations where entries[allocation.id] == nil {
            let stored = StoredAllocation(allocation: allocation, phase: .starting)
            entries[allocation.id] = Entry(stored: stored)
            Task { await self.start(stored) }
        }
    }

    // MARK: Running allocations

    func start(_ initial: StoredAllocation) async {
        var stored = initial
        let id = stored.allocation.id
        do {
            try store.create(stored)
            let logs = TaskLogs(root: configuration.logsDir, allocation: id)
            let stdio = try logs.open()
            entries[id]?.logs = stdio
            let task = try await sandbox.launch(taskSpec(stored.allocation, stdout: stdio.stdout, stderr: stdio.stderr))
            stored.phase = .running
            stored.adoption = task.record
            stored.killRequested = entries[id]?.stored.killRequested ?? false
            do { try store.save(stored) } catch {
                logger.error(
                    "cannot record a started allocation", metadata: ["allocation": "\(id)", "error": "\(error)"])
            }
            entries[id]?.stored = stored
            entries[id]?.task = task
            if stored.killRequested { await task.stop() }
            watch(task)
            doorbell.ring()  // report the start now: submit->running latency is the scheduler's to see
        } catch {
            logger.warning("launch failed", metadata: ["allocation": "\(id)", "error": "\(error)"])
            stored.phase = .ended
            stored.report = AllocationReport(id: id, state: .failed, error: "\(error)")
            record(stored)
        }
    }

    func watch(_ task: SandboxedTask) {
        Task {
            let outcome = await task.wait()
            self.ended(task.id, outcome)
        }
    }

    func ended(_ id: String, _ outcome: TaskOutcome) {
        guard var stored = entries[id]?.stored else { return }
        stored.phase = .ended
        stored.report = Self.report(id: id, outcome: outcome, killRequested: stored.killRequested)
        record(stored)
    }

    /// Keeps an ended allocation (on disk first) until a heartbeat delivered its report.
    func record(_ stored: StoredAllocation) {
        let id = stored.allocation.id
        do { try store.save(stored) } catch {
            logger.error("cannot record an ended allocation", metadata: ["allocation": "\(id)", "error": "\(error)"])
        }
        entries[id] = Entry(stored: stored)
        doorbell.ring()
    }

    func kill(_ id: String) {
        guard var entry = entries[id], entry.stored.phase != .ended else { return }
        entry.stored.killRequested = true
        entries[id] = entry
        try? store.save(entry.stored)
        if let task = entry.task { Task { await task.stop() } }
    }

    func taskSpec(_ allocation: Allocation, stdout: Int32, stderr: Int32) -> TaskSpec {
        var environment = allocation.environment
        environment["CORRAL_ALLOCATION"] = allocation.id
        environment["CORRAL_JOB"] = allocation.task.job
        environment["CORRAL_TASK_INDEX"] = String(allocation.task.index)
        environment["CORRAL_ATTEMPT"] = String(allocation.attempt)
        let resources = allocation.resources
        var limits = CgroupLimits(cpuCores: resources.cpu, memoryMax: resources.memory, pidsMax: resources.pids)
        if let device = configuration.ioDevice, resources.ioReadBps != nil || resources.ioWriteBps != nil {
            limits.io = [IOLimit(device: device, readBps: resources.ioReadBps, writeBps: resources.ioWriteBps)]
        }
        return TaskSpec(
            id: allocation.id, argv: allocation.command, environment: environment, image: allocation.image,
            limits: limits, timeout: allocation.timeoutMs.map { .milliseconds($0) }, stdout: stdout, stderr: stderr,
            statusFile: store.statusFile(allocation.id))
    }
}
