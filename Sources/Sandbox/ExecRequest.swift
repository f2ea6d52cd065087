import Cgroups
import CorralModel

/// A task as a person writes it (strings with units, `DEV=N` pairs), turned into a `TaskSpec` with every
/// problem reported at once, each naming its field.
public struct ExecRequest: Sendable {
    public var id: String?
    public var command: [String]
    public var cpu: String?
    public var cpuWeight: String?
    public var memory: String?
    public var swap: String?
    public var pids: String?
    public var ioReadBps: [String] = []
    public var ioWriteBps: [String] = []
    public var ioReadIops: [String] = []
    public var ioWriteIops: [String] = []
    public var timeout: String?
    public var killGrace: String?
    public var network: String = NetworkMode.none.rawValue
    public var user: String?
    public var image: String?
    public var workDirectory: String?
    public var environment: [String] = []
    public var tmpSize: String?

    public init(command: [String]) { self.command = command }

    public func taskSpec() throws(SandboxError) -> TaskSpec {
        var problems: [ValueError] = []
        /// Parses an optional text, recording a failure instead of throwing so every problem is reported.
        func parse<T>(_ text: String?, _ parser: (String) throws(ValueError) -> T?) -> T? {
            guard let text else { return nil }
            do { return try parser(text) } catch {
                problems.append(error)
                return nil
            }
        }
        var limits = CgroupLimits()
        limits.cpuCores = parse(cpu) { text throws(ValueError) in try CPUQuantity.parse(text, field: "cpu") }
        limits.cpuWeight = parse(cpuWeight) { text throws(ValueError) in try Self.integer(text, field: "cpu-weight") }
        limits.memoryMax = parse(memory) { text throws(ValueError) in try ByteSize.parse(text, field: "memory") }
        limits.swapMax = parse(swap) { text throws(ValueError) in try ByteSize.parse(text, field: "swap") }
        limits.pidsMax = parse(pids) { text throws(ValueError) in try Self.integer(text, field: "pids") }
        var io: [DeviceNumber: IOLimit] = [:]
        let sources: [(String, [String], WritableKeyPath<IOLimit, UInt64?>, Bool)] = [
            ("io-read-bps", ioReadBps, \.readBps, true), ("io-write-bps", ioWriteBps, \.writeBps, true),
            ("io-read-iops", ioReadIops, \.readIops, false), ("io-write-iops", ioWriteIops, \.writeIops, false),
        ]
        for (field, values, key, isBytes) in sources {
            for value in values {
                guard
                    let (device, amount) = parse(
                        value, { text throws(ValueError) in try Self.deviceLimit(text, field: field, bytes: isBytes) })
                else { continue }
                io[device, default: IOLimit(device: device)][keyPath: key] = amount
            }
        }
        limits.io = io.values.sorted { ($0.device.major, $0.device.minor) < ($1.device.major, $1.device.minor) }
        let timeoutValue = parse(timeout) { text throws(ValueError) in try DurationText.parse(text, field: "timeout") }
        let graceValue = parse(killGrace) { text throws(ValueError) in try DurationText.parse(text, field: "kill-grace")
        }
        let tmp = parse(tmpSize) { text throws(ValueError) in try ByteSize.parse(text, field: "tmp-size") }
        let net = NetworkMode(rawValue: network)
        if net == nil { problems.append(ValueError(field: "net", message: "\"\(network)\" is not one of none, host")) }
        var env: [String: String] = [:]
        for pair in environment {
            guard let eq = pair.firstIndex(of: "=") else {
                problems.append(ValueError(field: "env", message: "\"\(pair)\" is not NAME=VALUE"))
                continue
            }
            env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        let args = command.first == "--" ? Array(command.dropFirst()) : command
        let spec = TaskSpec(
            id: id ?? Self.newTaskID(), argv: args, environment: env, workDirectory: workDirectory, image: image,
            user: user, limits: limits, timeout: timeoutValue, killGrace: graceValue, network: net ?? .none,
            tmpSize: tmp)
        problems += spec.validate()
        guard problems.isEmpty else { throw SandboxError(problems) }
        return spec
    }

    /// `t-` and 8 random hex digits.
    public static func newTaskID() -> String {
        "t-" + String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
    }

    static func integer(_ text: String, field: String) throws(ValueError) -> UInt64 {
        guard let value = UInt64(text.filter { $0 != "_" }) else {
            throw ValueError(field: field, message: "\"\(text)\" is not a whole number")
        }
        return value
    }

    /// `DEV=N`: DEV a block device path or MAJ:MIN; N a size (bytes/s) or a count (IOPS).
    static func deviceLimit(_ text: String, field: String, bytes: Bool) throws(ValueError) -> (DeviceNumber, UInt64) {
        guard let eq = text.lastIndex(of: "=") else {
            throw ValueError(field: field, message: "\"\(text)\" is not DEVICE=AMOUNT (e.g. /dev/vda=10M or 8:0=100)")
        }
        let device: DeviceNumber
        do { device = try DeviceNumber.resolve(String(text[..<eq])) } catch {
            throw ValueError(field: field, message: error.description)
        }
        let amountText = String(text[text.index(after: eq)...])
        let amount = bytes ? try ByteSize.parse(amountText, field: field) : try integer(amountText, field: field)
        guard let amount else {
            throw ValueError(
                field: field, message: "\"\(amountText)\": give a number; leave the option out for no limit")
        }
        return (device, amount)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
