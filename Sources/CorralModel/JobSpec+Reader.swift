extension FieldReader {
    static let jobFields: Set<String> = [
        "name", "tenant", "priority", "command", "env", "image", "resources", "count", "timeout", "retry",
        "expectedDuration", "constraints", "network", "volumes", "type", "restart", "checks",
        "schedule", "dependsOn", "placement", "checkpointInterval", "checkpointLimit", "reclaimable",
    ]
    static let resourceFields: Set<String> = ["cpu", "memory", "ioReadBps", "ioWriteBps", "pids", "disk"]
    static let retryFields: Set<String> = ["maxAttempts", "initialDelay", "maxDelay", "jitter"]

    mutating func job(_ value: JSONValue) -> JobSpec? {
        guard let fields = object(value, "", known: Self.jobFields) else { return nil }
        let name = self.name(fields["name"], "name", limit: JobSpec.nameLimit, required: true)
        let tenant = self.name(fields["tenant"], "tenant", limit: 63, required: true)
        let priority = integer(fields["priority"], "priority", range: 0...100) ?? 50
        let command = strings(fields["command"], "command")
        if fields["command"] == nil || fields["command"] == .null {
            fail("command", "is required")
        } else if let command, command.first?.isEmpty ?? true {
            fail("command", "must name a program first")
        }
        let environment = stringMap(fields["env"], "env")
        let image = string(fields["image"], "image")
        if let image, ImageReference(image) == nil { fail("image", "\"\(image)\" \(ImageReference.rule)") }
        let resources = self.resources(fields["resources"])
        let count = integer(fields["count"], "count", range: 1...100_000) ?? 1
        let timeout = duration(fields["timeout"], "timeout")
        let retry = self.retry(fields["retry"])
        let expected = duration(fields["expectedDuration"], "expectedDuration")
        let constraints = stringMap(fields["constraints"], "constraints")
        let network = self.network(fields["network"])
        let volumes = self.volumes(fields["volumes"])
        let type = jobType(fields["type"])
        let restart = self.restart(fields["restart"])
        let checks = self.checks(fields["checks"], network: network ?? TaskNetwork())
        if type == .batch, fields["checks"] != nil, fields["checks"] != .null, !checks.isEmpty {
            fail("checks", "health checks are for service jobs (\"type\": \"service\")")
        }
        let schedule = self.schedule(fields["schedule"])
        let dependsOn = dependencies(fields["dependsOn"])
        let placement = self.placement(fields["placement"])
        let checkpointInterval = duration(fields["checkpointInterval"], "checkpointInterval")
        if let checkpointInterval, checkpointInterval < .seconds(1) || checkpointInterval > .seconds(3600) {
            fail("checkpointInterval", "must be within 1s...1h")
        }
        let checkpointLimit = quantity(
            fields["checkpointLimit"], "checkpointLimit", { text throws(ValueError) in try ByteSize.parse(text) })
        if let checkpointLimit, checkpointLimit > JobSpec.maxCheckpointLimit {
            fail("checkpointLimit", "\(checkpointLimit) bytes is over the 1 GiB maximum")
        }
        let reclaimable = bool(fields["reclaimable"], "reclaimable") ?? false
        if reclaimable, type == .service {
            fail("reclaimable", "only batch jobs may be evicted for room: a service runs until stopped")
        }
        if reclaimable, placement == .eachNode {
            fail("reclaimable", "an each-node job runs on every node by its requests and cannot be reclaimable")
        }
        if schedule != nil, !dependsOn.isEmpty {
            fail("dependsOn", "a schedule waits for no job: its runs start at their fire times")
        }
        if schedule != nil, type == .service {
            fail("schedule", "a service runs until stopped: only batch jobs take a schedule")
        }
        if schedule != nil, let name, name.utf8.count > JobSchedule.nameLimit {
            fail(
                "name", "a schedule's name is at most \(JobSchedule.nameLimit) characters (its runs add the fire time)")
        }
        guard let name, let tenant, let command, let resources, let retry, let network else { return nil }
        return JobSpec(
            name: name, tenant: tenant, priority: priority, command: command, environment: environment, image: image,
            resources: resources, count: count, timeout: timeout, retry: retry, expectedDuration: expected,
            constraints: constraints, network: network, volumes: volumes, type: type, restart: restart, checks: checks,
            schedule: schedule, dependsOn: dependsOn, placement: placement,
            checkpointInterval: checkpointInterval ?? JobSpec.defaultCheckpointInterval,
            checkpointLimit: checkpointLimit ?? JobSpec.defaultCheckpointLimit, reclaimable: reclaimable)
    }

    mutating func resources(_ value: JSONValue?) -> Resources? {
        var resources = Resources()
        guard let value, value != .null else { return resources }
        guard let fields = object(value, "resources", known: Self.resourceFields) else { return nil }
        if let cpu = quantity(
            fields["cpu"], "resources.cpu", { text throws(ValueError) in try CPUQuantity.parse(text) })
        {
            resources.cpu = cpu
        }
        if let memory = quantity(
            fields["memory"], "resources.memory", { text throws(ValueError) in try ByteSize.parse(text) })
        {
            if memory < 1 << 20 { fail("resources.memory", "\(memory) bytes is below the 1 MiB minimum") }
            resources.memory = memory
        }
        resources.ioReadBps = quantity(fields["ioReadBps"], "resources.ioReadBps") { text throws(ValueError) in
            try ByteSize.parse(text)
        }
        resources.ioWriteBps = quantity(fields["ioWriteBps"], "resources.ioWriteBps") { text throws(ValueError) in
            try ByteSize.parse(text)
        }
        if let pids = integer(fields["pids"], "resources.pids", range: 2...1_000_000) { resources.pids = UInt64(pids) }
        if let disk = quantity(
            fields["disk"], "resources.disk", { text throws(ValueError) in try ByteSize.parse(text) })
        {
            if disk < 64 << 10 || disk > 1 << 50 {
                fail("resources.disk", "\(disk) bytes is not within 64 KiB...1 PiB")
            } else {
                resources.disk = disk
            }
        }
        return resources
    }

    mutating func retry(_ value: JSONValue?) -> RetryPolicy? {
        var retry = RetryPolicy()
        guard let value, value != .null else { return retry }
        guard let fields = object(value, "retry", known: Self.retryFields) else { return nil }
        if let attempts = integer(fields["maxAttempts"], "retry.maxAttempts", range: 1...100) {
            retry.maxAttempts = attempts
        }
        if let initial = duration(fields["initialDelay"], "retry.initialDelay") { retry.initialDelay = initial }
        if let maximum = duration(fields["maxDelay"], "retry.maxDelay") { retry.maxDelay = maximum }
        if let jitter = quantity(fields["jitter"], "retry.jitter", { text throws(ValueError) in Double(text) }) {
            if (0...1).contains(jitter) {
                retry.jitter = jitter
            } else {
                fail("retry.jitter", "\(jitter) is not within 0...1")
            }
        }
        if retry.initialDelay > retry.maxDelay { fail("retry.initialDelay", "is longer than retry.maxDelay") }
        return retry
    }

    /// A positive duration: seconds as a number, or "30s", "500ms", "1m30s".
    mutating func duration(_ value: JSONValue?, _ path: String) -> Duration? {
        guard let parsed = quantity(value, path, { text throws(ValueError) in try DurationText.parse(text) }) else {
            return nil
        }
        if parsed <= .zero {
            fail(path, "must be positive")
            return nil
        }
        return parsed
    }
}
