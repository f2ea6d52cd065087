import CorralModel

/// A tournament tree over the nodes of one shape (same capacity and labels), for exact placement without
/// scanning every node. Each entry holds, for its subtree, the smallest node key (the request-independent
/// part of the cost, with the tie-break rank in its low bits), the largest free amount of each resource,
/// and the smallest key among nodes with at least each of a ladder of free CPU and memory amounts.
///
/// A search visits a subtree only when its lower bound on cost (the largest of those smallest keys that
/// apply to the request) could still beat the best node found so far and its largest free amounts could
/// hold the request. At a leaf the bounds are the node's own values, so the answer is the one a scan of
/// every feasible node would give. The ladders keep the search short on a nearly full cluster, where the
/// cheapest nodes are often the ones without room.
struct ShapeTree {
    /// Free CPU (millicores) and memory (bytes) at which the ladders keep a smallest key.
    static let cpuLadder = SIMD8<Int64>(50, 100, 250, 500, 1000, 2000, 4000, 8000)
    static let memoryLadder = SIMD8<Int64>(64, 128, 256, 512, 1024, 2048, 4096, 8192) &* (1 << 20)

    struct Entry {
        /// Smallest key in the subtree; `UInt64.max` when no node in it may take tasks.
        var key: UInt64
        /// Node slot of that smallest key (ties of key go to the lower slot).
        var slot: Int32
        var freeCpu: Int64
        var freeMemory: Int64
        var freeIORead: Int64
        var freeIOWrite: Int64
        var freePids: Int64
        /// Smallest key among nodes with free CPU of at least `cpuLadder[i]`.
        var cpuKeys: SIMD8<UInt64>
        /// Smallest key among nodes with free memory of at least `memoryLadder[i]`.
        var memoryKeys: SIMD8<UInt64>

        static let empty = Entry(
            key: .max, slot: .max, freeCpu: -1, freeMemory: -1, freeIORead: -1, freeIOWrite: -1, freePids: -1,
            cpuKeys: SIMD8(repeating: .max), memoryKeys: SIMD8(repeating: .max))

        /// A node's leaf.
        init(key: UInt64, slot: Int32, free: ResourceVector) {
            let none = SIMD8<UInt64>(repeating: .max)
            let own = SIMD8<UInt64>(repeating: key)
            self.init(
                key: key, slot: slot, freeCpu: free.cpuMillis, freeMemory: free.memory, freeIORead: free.ioRead,
                freeIOWrite: free.ioWrite, freePids: free.pids,
                cpuKeys: none.replacing(with: own, where: SIMD8(repeating: free.cpuMillis) .>= ShapeTree.cpuLadder),
                memoryKeys: none.replacing(
                    with: own, where: SIMD8(repeating: free.memory) .>= ShapeTree.memoryLadder))
        }

        init(
            key: UInt64, slot: Int32, freeCpu: Int64, freeMemory: Int64, freeIORead: Int64, freeIOWrite: Int64,
            freePids: Int64, cpuKeys: SIMD8<UInt64>, memoryKeys: SIMD8<UInt64>
        ) {
            self.key = key
            self.slot = slot
            self.freeCpu = freeCpu
            self.freeMemory = freeMemory
            self.freeIORead = freeIORead
            self.freeIOWrite = freeIOWrite
            self.freePids = freePids
            self.cpuKeys = cpuKeys
            self.memoryKeys = memoryKeys
        }

        @inline(__always) func precedes(_ other: Entry) -> Bool {
            key < other.key || (key == other.key && slot < other.slot)
        }

        @inline(__always) static func merge(_ a: Entry, _ b: Entry) -> Entry {
            let min = a.precedes(b) ? a : b
            return Entry(
                key: min.key, slot: min.slot, freeCpu: Swift.max(a.freeCpu, b.freeCpu),
                freeMemory: Swift.max(a.freeMemory, b.freeMemory), freeIORead: Swift.max(a.freeIORead, b.freeIORead),
                freeIOWrite: Swift.max(a.freeIOWrite, b.freeIOWrite), freePids: Swift.max(a.freePids, b.freePids),
                cpuKeys: pointwiseMin(a.cpuKeys, b.cpuKeys), memoryKeys: pointwiseMin(a.memoryKeys, b.memoryKeys))
        }

        /// The smallest key any node of the subtree that could hold a request on these ladder rungs has.
        @inline(__always) func bound(_ rungs: Rungs) -> UInt64 {
            var b = key
            if rungs.cpu >= 0 { b = Swift.max(b, cpuKeys[rungs.cpu]) }
            if rungs.memory >= 0 { b = Swift.max(b, memoryKeys[rungs.memory]) }
            return b
        }
    }

    /// The highest ladder rung at or below a request's CPU and memory (-1: below the lowest).
    struct Rungs {
        var cpu: Int
        var memory: Int

        init(_ request: ResourceVector) {
            cpu = -1
            memory = -1
            for i in 0..<8 {
                if ShapeTree.cpuLadder[i] <= request.cpuMillis { cpu = i }
                if ShapeTree.memoryLadder[i] <= request.memory { memory = i }
            }
        }
    }

    /// Leaves live at `capacity ..< 2 * capacity`; entry 1 is the root.
    private(set) var capacity: Int
    private var entries: [Entry]

    init(leaves: [Entry]) {
        var capacity = 1
        while capacity < leaves.count { capacity <<= 1 }
        self.capacity = capacity
        entries = Array(repeating: .empty, count: 2 * capacity)
        for (index, leaf) in leaves.enumerated() { entries[capacity + index] = leaf }
        var index = capacity - 1
        while index >= 1 {
            entries[index] = .merge(entries[2 * index], entries[2 * index + 1])
            index -= 1
        }
    }

    var root: Entry { entries[1] }

    /// Replaces one leaf and refreshes its ancestors.
    mutating func update(leaf index: Int, to entry: Entry) {
        let capacity = self.capacity
        entries.withUnsafeMutableBufferPointer { e in
            var i = capacity + index
            e[i] = entry
            i >>= 1
            while i >= 1 {
                e[i] = .merge(e[2 * i], e[2 * i + 1])
                i >>= 1
            }
        }
    }

    /// The best leaf for `request` whose key plus `offset` beats (`bestKey`, `bestSlot`); updates both.
    func search(
        request: ResourceVector, rungs: Rungs, offset: UInt64, bestKey: inout UInt64, bestSlot: inout Int32
    ) {
        entries.withUnsafeBufferPointer { e in
            var search = Search(e: e, capacity: capacity, r: request, rungs: rungs, offset: offset)
            search.bestKey = bestKey
            search.bestSlot = bestSlot
            search.visit(1)
            bestKey = search.bestKey
            bestSlot = search.bestSlot
        }
    }

    private struct Search {
        let e: UnsafeBufferPointer<Entry>
        let capacity: Int
        let r: ResourceVector
        let rungs: Rungs
        let offset: UInt64
        var bestKey = UInt64.max
        var bestSlot = Int32.max

        mutating func visit(_ i: Int) {
            let entry = e[i]
            guard entry.key != .max else { return }
            let lower = entry.bound(rungs)
            guard lower != .max else { return }
            let bound = lower &+ offset
            if bound > bestKey || (bound == bestKey && (lower != entry.key || entry.slot >= bestSlot)) { return }
            guard
                entry.freeCpu >= r.cpuMillis && entry.freeMemory >= r.memory && entry.freeIORead >= r.ioRead
                    && entry.freeIOWrite >= r.ioWrite && entry.freePids >= r.pids
            else { return }
            if i >= capacity {
                bestKey = bound
                bestSlot = entry.slot
                return
            }
            let left = 2 * i
            let right = left + 1
            if e[left].bound(rungs) <= e[right].bound(rungs) {
                visit(left)
                visit(right)
            } else {
                visit(right)
                visit(left)
            }
        }
    }
}
