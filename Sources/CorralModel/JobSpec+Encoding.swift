/// Writing a JobSpec back as JSON in the form `JobSpec.parse` reads: sizes and rates in bytes, CPU in
/// cores, durations in milliseconds ("1500ms"), so that parse(spec.json) == spec.
extension JobSpec: Codable {
    public var json: JSONValue {
        func duration(_ d: Duration?) -> JSONValue {
            guard let d else { return .null }
            let (s, atto) = d.components
            return .string("\(s * 1000 + atto / 1_000_000_000_000_000)ms")
        }
        func number(_ v: UInt64?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
        var fields: [String: JSONValue] = [
            "name": .string(name), "tenant": .string(tenant), "priority": .number(Double(priority)),
            "command": .array(command.map(JSONValue.string)), "env": .object(environment.mapValues(JSONValue.string)),
            "resources": .object([
                "cpu": .number(resources.cpu), "memory": .number(Double(resources.memory)),
                "ioReadBps": number(resources.ioReadBps), "ioWriteBps": number(resources.ioWriteBps),
                "pids": number(resources.pids),
            ]),
            "count": .number(Double(count)),
            "retry": .object([
                "maxAttempts": .number(Double(retry.maxAttempts)), "initialDelay": duration(retry.initialDelay),
                "maxDelay": duration(retry.maxDelay), "jitter": .number(retry.jitter),
            ]),
            "constraints": .object(constraints.mapValues(JSONValue.string)),
        ]
        if let image { fields["image"] = .string(image) }
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
