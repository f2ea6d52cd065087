import CorralModel

/// SplitMix64: a small, fast, seeded generator. Placement uses its finaliser to hash node ids into tie
/// ranks; benchmarks and property tests use the generator so that every run builds the same cluster.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return Self.mix(state)
    }

    /// 0..<n.
    public mutating func next(below n: Int) -> Int { Int(next() % UInt64(n)) }

    /// 0..<1, uniform over 53 bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// The SplitMix64 finaliser: a bijective scramble of 64 bits.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
