import CorralModel

/// The constants of the cost (DESIGN.md):
///
///     wlc(n)  = (running(n) + placedSinceLastReport(n) + 1) / weight(n)
///     load(n) = Σ_k a_k * (forecast_k(n) + request_k / capacity_k(n))      k in cpu, memory, io
///     cost(n) = b * wlc(n) / max_wlc + (1 - b) * load(n)
///
/// `max_wlc` is the largest wlc among ready nodes, so the connection term lies in 0...1 like the load
/// fractions. Ties of cost go to the node with the lower seeded hash of its id.
public struct PlacementWeights: Sendable, Equatable, Codable {
    /// b: the share of the connection term, 0...1.
    public var connections: Double
    /// a_cpu, a_memory, a_io: weights of each resource in the load term.
    public var cpu: Double
    public var memory: Double
    public var io: Double
    /// Seed of the tie-breaking hash: the same seed and cluster give the same choices.
    public var seed: UInt64

    public init(connections: Double = 0.5, cpu: Double = 1, memory: Double = 1, io: Double = 0.5, seed: UInt64 = 0) {
        self.connections = connections
        self.cpu = cpu
        self.memory = memory
        self.io = io
        self.seed = seed
    }

    /// Problems with the weights, each naming its field; empty when valid.
    public func problems(path: String = "placement") -> [String] {
        var problems: [String] = []
        if !(0...1).contains(connections) { problems.append("\(path).connections: \(connections) is not within 0...1") }
        for (name, value) in [("cpu", cpu), ("memory", memory), ("io", io)] where !(value >= 0 && value <= 100) {
            problems.append("\(path).\(name): \(value) is not within 0...100")
        }
        return problems
    }
}
