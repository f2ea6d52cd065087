import Foundation

/// An IPv4 address as a number, read from and written as dotted quads.
struct IPv4Address: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    var value: UInt32

    init(_ value: UInt32) { self.value = value }

    /// "a.b.c.d" with each part 0...255 and no leading zeros or signs; nil otherwise.
    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                part == "0" || !part.hasPrefix("0"), let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    var description: String { "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)" }

    static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(text)"))
        }
        self = address
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An IPv4 network in CIDR form ("10.89.0.0/24"), the host bits zero.
public struct IPv4Subnet: Sendable, Hashable, CustomStringConvertible {
    let network: IPv4Address
    public let prefix: Int

    /// Parses "a.b.c.d/n" for n in 8...30 (room for a gateway and at least one task) with no host bits set.
    public init(_ text: String) throws(AgentError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]) else {
            throw AgentError.configuration(
                "task subnet \"\(text)\" is not an IPv4 network in CIDR form (like 10.89.0.0/24)")
        }
        guard (8...30).contains(prefix) else {
            throw AgentError.configuration("task subnet \(text): the prefix must be within /8.../30")
        }
        let mask = Self.mask(prefix)
        guard address.value & ~mask == 0 else {
            throw AgentError.configuration(
                "task subnet \(text) has host bits set (the network is \(IPv4Address(address.value & mask))/\(prefix))")
        }
        network = address
        self.prefix = prefix
    }

    static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << (32 - prefix) }

    public var description: String { "\(network)/\(prefix)" }

    var mask: UInt32 { Self.mask(prefix) }
    /// The first host address: the bridge's own, the tasks' gateway.
    var gateway: IPv4Address { IPv4Address(network.value + 1) }
    /// Addresses tasks get: after the gateway, before the broadcast address.
    var taskAddresses: ClosedRange<UInt32> { (network.value + 2)...(network.value | ~mask) - 1 }

    func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    func overlaps(network other: UInt32, mask otherMask: UInt32) -> Bool {
        let common = mask & otherMask
        return network.value & common == other & common
    }

    /// The host's IPv4 routes (from /proc/net/route of the caller's network namespace) that overlap this
    /// subnet, as "network/prefix dev NAME", leaving out routes through `excludingDevice` (the bridge itself)
    /// and default routes.
    public func overlappingRoutes(excludingDevice: String) -> [String] {
        guard let table = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return [] }
        var found: [String] = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, fields[0] != excludingDevice,
                let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16), mask != 0
            else { continue }
            // /proc/net/route writes addresses in the host's (little-endian) byte order.
            let network = destination.byteSwapped
            let hostMask = mask.byteSwapped
            if overlaps(network: network, mask: hostMask) {
                found.append("\(IPv4Address(network))/\(hostMask.nonzeroBitCount) dev \(fields[0])")
            }
        }
        return found
    }
}
