/// How a job's tasks reach the network (`"network"` in a job spec).
public struct TaskNetwork: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// A network namespace of the task's own with only loopback: it can reach nothing (the default).
        case none
        /// The host's network namespace: allowed only to tenants whose configuration says so.
        case host
        /// A veth pair into the agent's bridge, an address from the node's task subnet, egress through NAT,
        /// and each named port published on a port of the node.
        case bridge
    }

    /// A port the task listens on, published on a port of the node the agent picks (bridge mode).
    public struct Port: Sendable, Equatable, Codable {
        /// `[a-z0-9_]`, 1-32 characters: the task learns the port as `CORRAL_PORT_<NAME>` (upper case).
        public var name: String
        /// The port inside the task's namespace.
        public var to: Int

        public init(name: String, to: Int) {
            self.name = name
            self.to = to
        }

        /// The name as it appears in environment variables (`CORRAL_PORT_HTTP`).
        public var variableName: String { name.uppercased() }
    }

    public var mode: Mode
    public var ports: [Port]

    public init(mode: Mode = .none, ports: [Port] = []) {
        self.mode = mode
        self.ports = ports
    }

    public static let portNameLimit = 32
    public static let portLimit = 32

    /// Whether `name` is a valid port name.
    public static func isPortName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= portNameLimit
            && name.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }
    }
}

extension FieldReader {
    static let networkFields: Set<String> = ["mode", "ports"]
    static let portFields: Set<String> = ["name", "to"]

    mutating func network(_ value: JSONValue?) -> TaskNetwork? {
        var network = TaskNetwork()
        guard let value, value != .null else { return network }
        guard let fields = object(value, "network", known: Self.networkFields) else { return nil }
        if let mode = string(fields["mode"], "network.mode") {
            if let parsed = TaskNetwork.Mode(rawValue: mode) {
                network.mode = parsed
            } else {
                let modes = TaskNetwork.Mode.allCases.map(\.rawValue).joined(separator: ", ")
                fail("network.mode", "\"\(mode)\" is not one of: \(modes)")
            }
        }
        guard let ports = fields["ports"], ports != .null else { return network }
        guard case .array(let items) = ports else {
            fail("network.ports", "must be an array of {\"name\", \"to\"}, not \(ports.shortDescription)")
            return network
        }
        if items.count > TaskNetwork.portLimit {
            fail("network.ports", "\(items.count) ports: at most \(TaskNetwork.portLimit)")
        }
        if !items.isEmpty, network.mode != .bridge {
            fail("network.ports", "ports are published only in bridge mode (network.mode is \(network.mode.rawValue))")
        }
        var seen: Set<String> = []
        for (index, item) in items.prefix(TaskNetwork.portLimit).enumerated() {
            let path = "network.ports[\(index)]"
            guard let port = object(item, path, known: Self.portFields) else { continue }
            let name = string(port["name"], "\(path).name", required: true)
            if let name, !TaskNetwork.isPortName(name) {
                fail("\(path).name", "\"\(name)\" must be 1-\(TaskNetwork.portNameLimit) characters of a-z 0-9 _")
            } else if let name, !seen.insert(name).inserted {
                fail("\(path).name", "\"\(name)\" is named twice")
            }
            let to = integer(port["to"], "\(path).to", range: 1...65_535)
            if port["to"] == nil || port["to"] == .null { fail("\(path).to", "is required") }
            if let name, let to { network.ports.append(TaskNetwork.Port(name: name, to: to)) }
        }
        return network
    }
}

extension TaskNetwork {
    var json: JSONValue {
        .object([
            "mode": .string(mode.rawValue),
            "ports": .array(ports.map { .object(["name": .string($0.name), "to": .number(Double($0.to))]) }),
        ])
    }
}
