/// A node's expected utilisation of each resource (fractions of capacity, usually 0...1) over the
/// horizon placement looks at: what a `LoadForecaster` predicts from the node's reports.
public struct NodeLoad: Sendable, Equatable, Codable {
    public var cpu: Double
    public var memory: Double
    public var io: Double

    public static let idle = NodeLoad(cpu: 0, memory: 0, io: 0)

    @inlinable
    public init(cpu: Double, memory: Double, io: Double) {
        self.cpu = cpu
        self.memory = memory
        self.io = io
    }
}
