/// Agent: the node daemon. It registers the node, heartbeats usage and allocation states, long-polls
/// for new allocations, runs them through the Sandbox, and keeps every allocation on disk so that a
/// restarted agent finds its tasks again (and starts none twice).
import Cgroups
import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Logging
import Sandbox
import ServiceLifecycle
import SystemSupport

public actor Agent {
    public nonisolated let configuration: AgentConfiguration
    let sandbox: Sandbox
    /// Carries the node's credential once it has one, the bootstrap token before.
    var client: SchedulerClient
    /// What the scheduler presents to fetch logs (from the last registration's answer); nil until then.
    var relayToken: String?
    let store: AllocationStore
    let tenantGroups: TenantGroups
    let logger: Logger
    var sampler: NodeSampler
    var entries: [AllocationID: Entry] = [:]
    var interval: Double = 5
    var nodeLoad = NodeLoad.idle
    var lastSample: Double = 0
    let doorbell = Doorbell()
    /// Set when a record could not be written for want of space; heartbeats say so (the scheduler places
    /// nothing here) until the data directory has room again.
    var diskFull = false
    /// Keeps running tasks' logs within `logLimitBytes` as they are written.
    let trimmer: LogTrimmer?
    /// Bridge-mode tasks' networking; nil when the node offers none (`--task-subnet off`).
    let bridge: BridgeNetwork?
    /// What bridge tasks get as /etc/resolv.conf (TaskResolvConf), nil when the host has nothing usable.
    let resolvConf: String?
    /// Whether it can be bound over the host's /etc/resolv.conf (a regular file there), looked at once.
    let resolvConfOverHostEtc: Bool
    /// Ended tasks' work directories kept for `corral alloc fs`, and when each goes (seconds since the epoch).
    var retainedWork: [AllocationID: Double] = [:]
    var lastWorkSweep: Double = 0
    /// The image labels the last registration advertised; a change (an import, a removal) registers again.
    var advertisedImages: [String: String] = [:]
    /// Launch times, sampling cost and counts for the agent's `/metrics`.
    var metrics = AgentMetrics()
    /// Reclaimable tasks made to yield and evicted under pressure; nil when the operator turned it off.
    var relief: PressureRelief?
    /// The node's last measured pressure (PSI `some`, 0-1), for `/metrics`.
    var pressure: Double?

    struct Entry {
        var allocation: Allocation
        var machine: AllocationMachine
        /// How to find the task again after a restart, once it runs.
        var adoption: AdoptionRecord?
        var task: SandboxedTask?
        var usage: AllocationUsage?
        /// The usage a delivered heartbeat carried last.
        var reportedUsage: AllocationUsage?
        /// The agent's descriptors of the task's log files, while it runs here.
        var logs: OpenLogs?
        /// The task's veth, address and published ports (bridge mode).
        var network: NetworkAttachment?
        /// A service task's health, and the health a delivered heartbeat carried last.
        var health: TaskHealth?
        var reportedHealth: TaskHealth?
        /// When a service task was restarted in place (within its restart policy's interval).
        var restartTimes: [Double] = []
        /// How the last run of a service task ended, while it waits to be restarted.
        var restartOutcome: TaskOutcome?
        /// The loop running its health checks.
        var checks: Task<Void, Never>?
        var checkpoint = CheckpointState()

        init(
            allocation: Allocation, machine: AllocationMachine, adoption: AdoptionRecord? = nil,
            network: NetworkAttachment? = nil
        ) {
            self.allocation = allocation
            self.machine = machine
            self.adoption = adoption
            self.network = network
        }

        var stored: StoredAllocation {
            StoredAllocation(allocation: allocation, machine: machine, adoption: adoption, network: network)
        }
    }

    public init(configuration: AgentConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        // Credentials, records and task logs live here: the agent's alone, even if it existed before.
        if try FileIO.makePrivateDirectory(configuration.dataDir) {
            logger.notice(
                "the data directory was open to others: now 0700", metadata: ["dir": "\(configuration.dataDir)"])
        }
        // Each supervised task keeps a few descriptors open (its usage files), and a systemd service's soft
        // limit on open files is 1024.
        if let failure = DescriptorLimit.raise() {
            logger.warning(
                "cannot raise the open-file limit", metadata: ["soft": "\(failure.soft)", "errno": "\(failure.errno)"])
        }
        sandbox = try Sandbox(config: configuration.sandbox, logger: logger)
        tenantGroups = try TenantGroups(
            path: configuration.dataDir + "/tenant-groups.json", range: configuration.tenantGroups,
            taskUIDs: configuration.sandbox.identities, logger: logger)
        client = try SchedulerClient(
            baseURL: configuration.schedulerURL,
            token: NodeCredential.read(dataDir: configuration.dataDir) ?? configuration.token, tls: configuration.tls)
        store = try AllocationStore(directory: configuration.allocationsDir)
        try FileManager.default.createDirectory(
            atPath: configuration.logsDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try TaskLogs.checkHolePunching(in: configuration.logsDir)
        trimmer = LogTrimmer(keep: configuration.logLimitBytes)
        if trimmer == nil {
            logger.warning("no inotify: task logs are kept in bound on each sample only, not as they are written")
        }
        try CgroupParent.prepare(configuration.sandbox.cgroupParent, host: sandbox.host)
        sampler = NodeSampler(configuration: configuration, host: sandbox.host)
        bridge = configuration.bridge.map {
            BridgeNetwork(configuration: $0, nodeAddress: configuration.nodeAddress, logger: logger)
        }
        resolvConf =
            configuration.bridge == nil ? nil : TaskResolvConf.write(into: configuration.dataDir, logger: logger)
        resolvConfOverHostEtc = resolvConf != nil && TaskResolvConf.hostFileIsRegular()
        relief = configuration.relief.map(PressureRelief.init(settings:))
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
    func isRunning(_ id: AllocationID) -> Bool {
        switch entries[id]?.machine.state {
        case .accepted, .launching, .running: true
        case .ended, .released, nil: false
        }
    }

    // MARK: Talking to the scheduler

    func registerUntilAccepted() async throws {
        var delay = 0.2
        while true {
            do {
                try await register()
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
        advertisedImages = imageLabels()
        return Registration(
            node: configuration.nodeID, capacity: sampler.capacity,
            labels: configuration.labels.merging(Self.labels(of: configuration.volumes)) { mine, _ in mine }
                .merging(advertisedImages) { mine, _ in mine },
            weight: configuration.weight,
            address: configuration.listen.map { "\(configuration.servesTLS ? "https" : "http")://\($0)" },
            info: ["cgroupMode": sandbox.host.mode.rawValue, "kernel": HostReport.kernelRelease()])
    }

    func heartbeatLoop() async {
        while !Task.isCancelled {
            sampleIfDue()
            sweepWorkIfDue()
            checkpointIfDue()
            if diskFull, Self.hasRoom(configuration.dataDir) {
                diskFull = false
                logger.notice("the data directory has room again", metadata: ["dir": "\(configuration.dataDir)"])
            }
            let reports = entries.values.compactMap(Self.report)
            let delivered = reports.filter { $0.state != .running }.map(\.id)
            // The endings are reported once their records' names are durable too (a failure is logged: the
            // records themselves are synced, and the scheduler must still hear of the endings).
            if !delivered.isEmpty {
                do { try store.syncDirectory() } catch {
                    logger.error("cannot sync the allocation records' directory", metadata: ["error": "\(error)"])
                }
            }
            do {
                let orders = try await client.heartbeat(
                    node: configuration.nodeID, Heartbeat(usage: nodeLoad, reports: reports, diskFull: diskFull))
                for id in delivered { handle(.reportDelivered, id) }
                for report in reports where report.state == .running {
                    if report.usage != nil { entries[report.id]?.reportedUsage = report.usage }
                    if report.health != nil { entries[report.id]?.reportedHealth = report.health }
                    if report.checkpoint != nil { entries[report.id]?.checkpoint.reported = report.checkpoint }
                }
                apply(orders)
            } catch {
                await recover(from: error, in: "heartbeat")
            }
            await doorbell.wait(timeout: .milliseconds(Int64(interval * 1000)))
        }
    }

    /// Whether the filesystem of `path` has room again: 64 MiB free, or a quarter of a smaller one.
    static func hasRoom(_ path: String) -> Bool {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return false }
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        return free >= min(64 << 20, UInt64(fs.f_blocks) * UInt64(fs.f_frsize) / 4)
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
        if let error = error as? APIError, error.code == "unknown_node" || error.status == 401 {
            // Forgotten by the scheduler: registering again (with the bootstrap token if the credential is
            // void) makes it known again.
            do { try await register() } catch {
                logger.warning("cannot register again", metadata: ["error": "\(error)"])
            }
            return
        }
        logger.warning("\(request) failed", metadata: ["error": "\(error)"])
    }

    func apply(_ orders: AgentOrders) {
        interval = max(orders.heartbeatIntervalSeconds, 0.05)
        for id in orders.kills { handle(.killRequested, id) }
        for allocation in orders.allocations where entries[allocation.id] == nil {
            entries[allocation.id] = Entry(allocation: allocation, machine: AllocationMachine(id: allocation.id))
            handle(.launch, allocation.id)
        }
    }

    // MARK: Running allocations

    /// Runs an event through the allocation's machine and carries out its actions.
    func handle(_ event: AllocationMachine.Event, _ id: AllocationID) {
        guard var entry = entries[id] else { return }
        let before = entry.machine.state
        let actions = entry.machine.handle(event)
        if case .ended = entry.machine.state, before != .ended {
            // An ended allocation keeps only its record until the report is delivered; its network is freed.
            if entry.network != nil, let bridge { Task { await bridge.release(id) } }
            retainWork(id)
            let checkpoint = entry.checkpoint
            entry = Entry(allocation: entry.allocation, machine: entry.machine, adoption: entry.adoption)
            entry.checkpoint.status = checkpoint.status
            entry.checkpoint.reported = checkpoint.reported
        }
        entries[id] = entry
        var unrecorded: (any Error)?
        for action in actions {
            switch action {
            case .persist:
                do {
                    if before == .accepted { try store.create(entry.stored) } else { try store.save(entry.stored) }
                } catch {
                    unrecorded = error
                    if (error as? AgentError)?.isDiskFull == true { diskFull = true }
                    logger.error(
                        "cannot record an allocation",
                        metadata: ["allocation": "\(id)", "state": "\(entry.machine.state)", "error": "\(error)"])
                }
            case .startTask:
                // A task without a record would be neither found nor undone after a restart: not started.
                if let unrecorded {
                    return handle(.launchFailed("cannot record the allocation: \(unrecorded)", nodeFault: true), id)
                }
                Task { await self.launch(id) }
            case .stopTask:
                if let task = entry.task {
                    Task { await task.stop() }
                } else if let outcome = entry.restartOutcome {
                    // Between two runs of a service task: it ends here.
                    Task { self.handle(.exited(outcome), id) }
                }
            case .undoLaunch:
                Task { await self.undoLaunch(id) }
            case .announce:
                doorbell.ring()
            case .release:
                entries[id] = nil
                store.remove(id)
            }
        }
    }

    /// Whether a launch failed for the node's own reason: everything but the task's command, user and
    /// spec (a command that does not exist is the task's doing; a sandbox that cannot be set up, an image or
    /// volume the node lacks, a full disk are the node's).
    static func isNodeFault(_ error: any Error) -> Bool {
        guard let sandbox = error as? SandboxError else { return true }
        switch sandbox.code {
        case .exec, .invalidSpec, .user, .notPermitted: return false
        case .configuration, .image, .workDirectory, .cgroup, .spawn, .setup, .network: return true
        }
    }

    func launch(_ id: AllocationID) async {
        guard let allocation = entries[id]?.allocation else { return }
        let task: SandboxedTask
        let begun = ContinuousClock.now
        do {
            task = try await start(allocation)
            metrics.launched(in: ContinuousClock.now - begun)
        } catch {
            metrics.launchFailures += 1
            if entries[id]?.network != nil, let bridge {
                await bridge.release(id)
                entries[id]?.network = nil
            }
            if (error as? AgentError)?.isDiskFull == true { diskFull = true }
            logger.warning("launch failed", metadata: ["allocation": "\(id)", "error": "\(error)"])
            handle(.launchFailed("\(error)", nodeFault: Self.isNodeFault(error)), id)
            return
        }
        entries[id]?.task = task
        entries[id]?.adoption = task.record
        logger.info("task started", metadata: ["allocation": "\(id)", "pid": "\(task.pid)"])
        // Reported at once: submit->running latency is the scheduler's to see.
        handle(.launched, id)
        watch(task, id)
    }

    /// The task of an allocation started in the sandbox, with its logs, volumes and network (a service task
    /// restarted in place keeps its address and ports).
    func start(_ allocation: Allocation) async throws -> SandboxedTask {
        let id = allocation.id
        let stdio = try TaskLogs(root: configuration.logsDir, allocation: id).open(trimmer: trimmer)
        entries[id]?.logs = stdio
        var spec = taskSpec(allocation, stdout: stdio.stdout, stderr: stdio.stderr)
        spec.mounts = try mounts(for: allocation)
        // Kept past the task's end for its last checkpoint (and `corral alloc fs`); `retainWork` removes it.
        spec.keepWorkDirectory = true
        spec.workSize = allocation.resources.disk
        if allocation.checkpointLimit != nil {
            spec.workSubdirectories = [Self.checkpointDirectory]
            spec.environment["CORRAL_CHECKPOINT_DIR"] = Self.checkpointMount
        }
        let restore = try await restoration(for: allocation)
        spec.prepare = restore
        if allocation.network?.mode == .bridge {
            guard let bridge else {
                throw AgentError.network("bridge networking is off on node \(configuration.nodeID) (--task-subnet)")
            }
            let attachment: NetworkAttachment
            if let kept = entries[id]?.network {
                attachment = kept
            } else {
                attachment = try await bridge.reserve(
                    id, tenant: allocation.tenant, ports: allocation.network?.ports ?? [])
            }
            entries[id]?.network = attachment
            spec.environment.merge(Self.environment(of: attachment)) { _, ours in ours }
            if let resolvConf, allocation.image != nil || resolvConfOverHostEtc {
                spec.mounts.append(
                    BindMount(source: resolvConf, target: "/etc/resolv.conf", readOnly: true, file: true))
            }
            spec.prepare = { pid in
                try await bridge.plumb(id, pid: pid)
                try await restore?(pid)
            }
        }
        return try await sandbox.launch(spec)
    }

    func watch(_ task: SandboxedTask, _ id: AllocationID) {
        startChecks(id)
        Task {
            let outcome = await task.wait()
            await self.taskEnded(outcome, id)
        }
    }

    func taskSpec(_ allocation: Allocation, stdout: Int32, stderr: Int32) -> TaskSpec {
        let environment = taskEnvironment(allocation)
        let resources = allocation.resources
        var limits = CgroupLimits(cpuCores: resources.cpu, memoryMax: resources.memory, pidsMax: resources.pids)
        if let device = configuration.ioDevice, resources.ioReadBps != nil || resources.ioWriteBps != nil {
            limits.io = [IOLimit(device: device, readBps: resources.ioReadBps, writeBps: resources.ioWriteBps)]
        }
        return TaskSpec(
            id: allocation.id.description, argv: allocation.command, environment: environment, image: allocation.image,
            groups: tenantGroups.gid(for: allocation.tenant).map { [$0] } ?? [], limits: limits,
            timeout: allocation.timeoutMs.map { .milliseconds($0) },
            network: allocation.network?.mode == .host ? .host : .none, stdout: stdout, stderr: stderr,
            statusFile: store.statusFile(allocation.id))
    }
}

extension Agent {
    /// The job's environment and Corral's variables (the network's come with the attachment).
    func taskEnvironment(_ allocation: Allocation) -> [String: String] {
        var environment = allocation.environment
        environment["CORRAL_ALLOCATION"] = allocation.id.description
        environment["CORRAL_JOB"] = allocation.task.job.rawValue
        environment["CORRAL_TASK_INDEX"] = String(allocation.task.index)
        environment["CORRAL_ATTEMPT"] = String(allocation.attempt)
        if let count = allocation.taskCount { environment["CORRAL_TASK_COUNT"] = String(count) }
        return environment
    }

    /// `CORRAL_PORT_<NAME>` (the port to listen on) and `CORRAL_ADDR_<NAME>` (where clients reach it) per
    /// published port.
    static func environment(of attachment: NetworkAttachment) -> [String: String] {
        var environment: [String: String] = [:]
        for port in attachment.ports {
            let name = port.name.uppercased()
            environment["CORRAL_PORT_\(name)"] = String(port.to)
            environment["CORRAL_ADDR_\(name)"] = port.address
        }
        return environment
    }
}
