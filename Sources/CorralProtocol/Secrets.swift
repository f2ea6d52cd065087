/// Comparing secrets.
public enum Secrets {
    /// Whether `a` equals `b`, in time that depends only on the lengths: neither the answer's timing nor
    /// an early exit tells a guesser how much of a secret it got right.
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let x = Array(a)
        let y = Array(b)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }

    public static func equal(_ a: String, _ b: String) -> Bool { equal(a.utf8, b.utf8) }

    /// 32 bytes from the system's CSPRNG (`getrandom`), as 64 lowercase hex digits.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in hex(UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map(hex).joined() }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
