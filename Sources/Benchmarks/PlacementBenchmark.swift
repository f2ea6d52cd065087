import CorralModel
import Placement

/// `corral bench place`: placements per second over a synthetic heterogeneous cluster (mixed machine
/// shapes and labels, 70-90% pre-filled), every decision exact. The peer in the same run is the full
/// scan that scores every node in turn: it must agree with the tree search on every task it is given,
/// and the ratio of their speeds is the figure to compare across machines. Nodes carry a forecast load
/// per horizon (the scheduler's three by default) and each task names one, as the scheduler places.
public struct PlacementBenchmark: Sendable {
    public var nodes: Int
    public var tasks: Int
    /// Tasks the full scan also places (it is slow); their choices must agree.
    public var scanTasks: Int
    public var seed: UInt64
    /// Forecast horizons per node (a tree per shape and horizon).
    public var horizons: Int

    public init(nodes: Int, tasks: Int, scanTasks: Int = 2000, seed: UInt64 = 42, horizons: Int = 3) {
        self.nodes = nodes
        self.tasks = tasks
        self.scanTasks = scanTasks
        self.seed = seed
        self.horizons = max(1, horizons)
    }

    public struct Report: Sendable, Encodable {
        public var nodes: Int
        public var tasks: Int
        public var horizons: Int
        public var placed: Int
        public var placementsPerSecond: Double
        public var p50Us: Double
        public var p99Us: Double
        /// The full scan over the same cluster and first tasks.
        public var scanTasks: Int
        public var scanPlacementsPerSecond: Double
        public var scanAgreed: Int
        public var speedupOverScan: Double
    }

    public func run() -> Report {
        var random = SplitMix64(seed: seed)
        let cluster = makeCluster(&random)
        let requests = (0..<tasks).map { _ in makeRequest(&random) }

        // The full scan on a copy, first tasks only.
        var scanView = cluster
        var scanChoices: [Int?] = []
        let scanCount = min(scanTasks, tasks)
        let scanTime = measure {
            for r in requests.prefix(scanCount) {
                let choice = scanView.chooseByScan(
                    scanView.request(r.resources, constraints: r.constraints, horizon: r.horizon))
                if let choice { scanView.commit(r.resources, slot: choice.slot) }
                scanChoices.append(choice?.slot)
            }
        }

        var view = cluster
        var latencies = [Double]()
        latencies.reserveCapacity(tasks)
        var placed = 0
        var agreed = 0
        let clock = ContinuousClock()
        let compiled = requests.map { view.request($0.resources, constraints: $0.constraints, horizon: $0.horizon) }
        let total = measure {
            for (index, request) in compiled.enumerated() {
                let start = clock.now
                let result = view.place(request)
                let elapsed = clock.now - start
                latencies.append(elapsed.inSeconds * 1e6)
                if case .success(let choice) = result {
                    placed += 1
                    if index < scanCount, scanChoices[index] == choice.slot { agreed += 1 }
                } else if index < scanCount, scanChoices[index] == nil {
                    agreed += 1
                }
            }
        }
        latencies.sort()
        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let perSecond = Double(tasks) / total.inSeconds
        let scanPerSecond = Double(scanCount) / scanTime.inSeconds
        return Report(
            nodes: nodes, tasks: tasks, horizons: horizons, placed: placed, placementsPerSecond: perSecond,
            p50Us: pct(0.5),
            p99Us: pct(0.99), scanTasks: scanCount, scanPlacementsPerSecond: scanPerSecond, scanAgreed: agreed,
            speedupOverScan: perSecond / scanPerSecond)
    }

    struct Task {
        var resources: ResourceVector
        var constraints: [String: String]
        var horizon: Int
    }

    /// Machine shapes (cores, GiB, disk MB/s) in the proportions a mixed fleet has.
    static let shapes: [(cores: Int64, gib: Int64, disk: Int64)] = [
        (8, 32, 200), (16, 64, 500), (32, 128, 500), (32, 256, 1000), (64, 256, 1000), (96, 384, 2000),
    ]
    static let zones = ["a", "b", "c"]

    func makeCluster(_ random: inout SplitMix64) -> ClusterView {
        var view = ClusterView(weights: PlacementWeights(seed: seed), horizons: horizons)
        for index in 0..<nodes {
            let shape = Self.shapes[random.next(below: Self.shapes.count)]
            let disk = shape.disk * 1_000_000
            let capacity = ResourceVector(
                cpuMillis: shape.cores * 1000, memory: shape.gib << 30, ioRead: disk, ioWrite: disk, pids: 32768)
            let id = "node-\(index)"
            view.upsert(
                NodeDescription(
                    id: id, capacity: capacity, weight: Double(shape.cores) / 16,
                    labels: [
                        "zone": Self.zones[random.next(below: 3)], "disk": random.next(below: 4) == 0 ? "hdd" : "ssd",
                    ]
                ))
            let fill = 0.7 + 0.2 * random.nextDouble()
            let running = Int(Double(shape.cores) * fill * 2)
            view.reserve(
                ResourceVector(
                    cpuMillis: Int64(Double(capacity.cpuMillis) * fill),
                    memory: Int64(Double(capacity.memory) * (fill - 0.05 + 0.1 * random.nextDouble())),
                    ioRead: Int64(Double(disk) * fill * 0.5), ioWrite: Int64(Double(disk) * fill * 0.5),
                    pids: Int64(running * 20)), on: id)
            view.report(id, running: running)
            let load = NodeLoad(
                cpu: fill * (0.6 + 0.4 * random.nextDouble()), memory: fill * (0.8 + 0.2 * random.nextDouble()),
                io: 0.3 * random.nextDouble())
            // longer horizons drift from the next minute's forecast
            view.setLoads(
                id,
                (0..<horizons).map { h in
                    let drift = 1 + 0.1 * Double(h) * (random.nextDouble() - 0.5)
                    return NodeLoad(cpu: load.cpu * drift, memory: load.memory, io: load.io * drift)
                })
        }
        return view
    }

    func makeRequest(_ random: inout SplitMix64) -> Task {
        let cpu: [Int64] = [100, 250, 250, 500, 500, 1000]
        let memory: [Int64] = [64 << 20, 128 << 20, 256 << 20, 512 << 20, 1 << 30]
        var constraints: [String: String] = [:]
        switch random.next(below: 10) {
        case 0: constraints["zone"] = Self.zones[random.next(below: 3)]
        case 1: constraints["disk"] = "ssd"
        default: break
        }
        let io: Int64 = random.next(below: 5) == 0 ? 10_000_000 : 0
        return Task(
            resources: ResourceVector(
                cpuMillis: cpu[random.next(below: cpu.count)], memory: memory[random.next(below: memory.count)],
                ioRead: io, ioWrite: io / 2, pids: 64),
            constraints: constraints, horizon: random.next(below: horizons))
    }
}
