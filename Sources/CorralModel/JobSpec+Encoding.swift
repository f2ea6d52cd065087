/// Writing a JobSpec back as JSON in the form `JobSpec.parse` reads: sizes and rates in bytes, CPU in
/// cores, durations in milliseconds ("1500ms"), so that parse(spec.json) == spec.
extension JobSpec: Codable {
    public var json: JSONValue {
        func duration(_ d: Duration?) -> JSONValue {
            d.map { .string("\($0.wholeMilliseconds)ms") } ?? .null
        }
        func number(_ v: UInt64?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
        var fields: [String: JSONValue] = [
            "name": .string(name), "tenant": .string(tenant), "priority": .number(Double(priority)),
            "command": .array(command.map(JSONValue.string)), "env": .object(environment.mapValues(JSONValue.string)),
            "resources": .object([
                "cpu": .number(resources.cpu), "memory": .number(Double(resources.memory)),
                "ioReadBps": number(resources.ioReadBps), "ioWriteBps": number(resources.ioWriteBps),
                "pids": number(resources.pids), "disk": number(resources.disk),
            ]),
            "count": .number(Double(count)),
            "retry": .object([
                "maxAttempts": .number(Double(retry.maxAttempts)), "initialDelay": duration(retry.initialDelay),
                "maxDelay": duration(retry.maxDelay), "jitter": .number(retry.jitter),
            ]),
            "constraints": .object(constraints.mapValues(JSONValue.string)),
        ]
        if let image { fields["image"] = .string(image) }
        if network != TaskNetwork() { fields["network"] = network.json }
        if !volumes.isEmpty { fields["volumes"] = .array(volumes.map(\.json)) }
        if type != .batch { fields["type"] = .string(type.rawValue) }
        if restart != RestartPolicy() { fields["restart"] = restart.json }
        if !checks.isEmpty { fields["checks"] = .array(checks.map(\.json)) }
        if let schedule { fields["schedule"] = schedule.json }
        if checkpointInterval != JobSpec.defaultCheckpointInterval {
            fields["checkpointInterval"] = duration(checkpointInterval)
        }
        if checkpointLimit != JobSpec.defaultCheckpointLimit {
            fields["checkpointLimit"] = .number(Double(checkpointLimit))
        }
        if reclaimable { fields["reclaimable"] = .bool(true) }
        if placement != .any { fields["placement"] = .object(["mode": .string(placement.rawValue)]) }
        if !dependsOn.isEmpty { fields["dependsOn"] = .array(dependsOn.map(\.json)) }
        if let timeout { fields["timeout"] = duration(timeout) }
        if let expectedDuration { fields["expectedDuration"] = duration(expectedDuration) }
        return .object(fields)
    }

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        do {
            self = try JobSpec.parse(value)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}

/// Resources on the wire between scheduler and agent: plain numbers (cores, bytes, bytes/s, count).
extension Resources: Codable {
    enum CodingKeys: String, CodingKey { case cpu, memory, ioReadBps, ioWriteBps, pids, disk }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cpu: try c.decode(Double.self, forKey: .cpu), memory: try c.decode(UInt64.self, forKey: .memory),
            ioReadBps: try c.decodeIfPresent(UInt64.self, forKey: .ioReadBps),
            ioWriteBps: try c.decodeIfPresent(UInt64.self, forKey: .ioWriteBps),
            pids: try c.decodeIfPresent(UInt64.self, forKey: .pids),
            disk: try c.decodeIfPresent(UInt64.self, forKey: .disk))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpu, forKey: .cpu)
        try c.encode(memory, forKey: .memory)
        try c.encodeIfPresent(ioReadBps, forKey: .ioReadBps)
        try c.encodeIfPresent(ioWriteBps, forKey: .ioWriteBps)
        try c.encodeIfPresent(pids, forKey: .pids)
        try c.encodeIfPresent(disk, forKey: .disk)
    }
}
