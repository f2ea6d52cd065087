/// What kind of work a job is: batch tasks run to their end; service tasks run until the job is cancelled,
/// restarted in place when they exit or fail their health checks.
public enum JobType: String, Sendable, Codable, CaseIterable {
    case batch, service
}

/// How a service task is restarted on its node when it exits (or is unhealthy): at most `attempts`
/// restarts within `interval`, each after `delay`. Past that, `fail` ends the allocation (the scheduler's
/// retry policy places it again), `delay` waits for the interval to pass and goes on.
public struct RestartPolicy: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable { case fail, delay }

    public var attempts: Int
    public var interval: Duration
    public var delay: Duration
    public var mode: Mode

    public init(
        attempts: Int = 3, interval: Duration = .seconds(300), delay: Duration = .seconds(2), mode: Mode = .fail
    ) {
        self.attempts = attempts
        self.interval = interval
        self.delay = delay
        self.mode = mode
    }
}

/// A health check the agent runs against a service task.
public struct HealthCheck: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case http, tcp, exec }

    public var type: Kind
    /// The named port (`network.ports`) an http or tcp check connects to.
    public var port: String?
    /// The http check's path ("/health").
    public var path: String
    /// The exec check's command, run inside the task's sandbox (its cgroups, namespaces, user and seccomp
    /// filter, Sandbox.run(_:in:)): healthy on exit 0.
    public var command: [String]
    public var interval: Duration
    public var timeout: Duration
    /// Consecutive failures that make the task unhealthy (and restart it).
    public var unhealthyAfter: Int
    /// After each start, failures before the first pass do not count for this long (the service starts up).
    public var grace: Duration

    public init(
        type: Kind, port: String? = nil, path: String = "/", command: [String] = [], interval: Duration = .seconds(5),
        timeout: Duration = .seconds(1), unhealthyAfter: Int = 3, grace: Duration = .seconds(10)
    ) {
        self.grace = grace
        self.type = type
        self.port = port
        self.path = path
        self.command = command
        self.interval = interval
        self.timeout = timeout
        self.unhealthyAfter = unhealthyAfter
    }

    public static let limit = 8
}

extension FieldReader {
    static let restartFields: Set<String> = ["attempts", "interval", "delay", "mode"]
    static let checkFields: Set<String> = [
        "type", "port", "path", "command", "interval", "timeout", "unhealthyAfter", "grace",
    ]

    mutating func jobType(_ value: JSONValue?) -> JobType {
        guard let text = string(value, "type") else { return .batch }
        guard let type = JobType(rawValue: text) else {
            fail("type", "\"\(text)\" is not one of: batch, service")
            return .batch
        }
        return type
    }

    mutating func restart(_ value: JSONValue?) -> RestartPolicy {
        var policy = RestartPolicy()
        guard let value, value != .null, let fields = object(value, "restart", known: Self.restartFields) else {
            return policy
        }
        if let attempts = integer(fields["attempts"], "restart.attempts", range: 0...1000) {
            policy.attempts = attempts
        }
        if let interval = duration(fields["interval"], "restart.interval") { policy.interval = interval }
        if let delay = duration(fields["delay"], "restart.delay") { policy.delay = delay }
        if let mode = string(fields["mode"], "restart.mode") {
            if let parsed = RestartPolicy.Mode(rawValue: mode) {
                policy.mode = parsed
            } else {
                fail("restart.mode", "\"\(mode)\" is not one of: fail, delay")
            }
        }
        return policy
    }

    mutating func checks(_ value: JSONValue?, network: TaskNetwork) -> [HealthCheck] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else {
            fail("checks", "must be an array of checks, not \(value.shortDescription)")
            return []
        }
        if items.count > HealthCheck.limit { fail("checks", "\(items.count) checks: at most \(HealthCheck.limit)") }
        var checks: [HealthCheck] = []
        for (index, item) in items.prefix(HealthCheck.limit).enumerated() {
            let path = "checks[\(index)]"
            guard let fields = object(item, path, known: Self.checkFields) else { continue }
            guard let typeText = string(fields["type"], "\(path).type", required: true) else { continue }
            guard let type = HealthCheck.Kind(rawValue: typeText) else {
                fail("\(path).type", "\"\(typeText)\" is not one of: http, tcp, exec")
                continue
            }
            var check = HealthCheck(type: type)
            check.port = string(fields["port"], "\(path).port")
            if type != .exec {
                if let port = check.port {
                    if !network.ports.contains(where: { $0.name == port }) {
                        fail("\(path).port", "\"\(port)\" is not one of the job's network.ports")
                    }
                } else {
                    fail("\(path).port", "is required for \(type.rawValue) checks (a port of network.ports)")
                }
            }
            if let text = string(fields["path"], "\(path).path") {
                if text.hasPrefix("/"), text.utf8.count <= 1024,
                    !text.contains(where: { $0.isWhitespace || $0.isNewline })
                {
                    check.path = text
                } else {
                    fail("\(path).path", "must be an absolute URL path without spaces (at most 1024 bytes)")
                }
            }
            check.command = strings(fields["command"], "\(path).command") ?? []
            if type == .exec, check.command.first?.isEmpty ?? true {
                fail("\(path).command", "is required for exec checks")
            }
            if check.command.count > 64 || check.command.reduce(0, { $0 + $1.utf8.count }) > 16 << 10 {
                fail("\(path).command", "at most 64 arguments and 16 KiB")
            }
            if type != .exec, !check.command.isEmpty {
                fail("\(path).command", "is only for exec checks")
            }
            if let interval = duration(fields["interval"], "\(path).interval") { check.interval = interval }
            if let timeout = duration(fields["timeout"], "\(path).timeout") { check.timeout = timeout }
            if let grace = duration(fields["grace"], "\(path).grace") { check.grace = grace }
            if check.interval < .milliseconds(100) { fail("\(path).interval", "must be at least 100ms") }
            if let after = integer(fields["unhealthyAfter"], "\(path).unhealthyAfter", range: 1...100) {
                check.unhealthyAfter = after
            }
            checks.append(check)
        }
        return checks
    }
}

extension RestartPolicy {
    var json: JSONValue {
        .object([
            "attempts": .number(Double(attempts)), "interval": .string("\(interval.wholeMilliseconds)ms"),
            "delay": .string("\(delay.wholeMilliseconds)ms"), "mode": .string(mode.rawValue),
        ])
    }
}

extension HealthCheck {
    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "type": .string(type.rawValue), "path": .string(path),
            "interval": .string("\(interval.wholeMilliseconds)ms"),
            "timeout": .string("\(timeout.wholeMilliseconds)ms"), "unhealthyAfter": .number(Double(unhealthyAfter)),
            "grace": .string("\(grace.wholeMilliseconds)ms"),
        ]
        if let port { fields["port"] = .string(port) }
        if !command.isEmpty { fields["command"] = .array(command.map(JSONValue.string)) }
        return .object(fields)
    }
}
