import CorralProtocol

/// Tasks waiting for placement, highest priority first, then in submission order: a binary heap.
struct TaskQueue: Sendable {
    struct Item: Sendable, Equatable {
        var priority: Int
        /// Submission sequence of the job; lower first.
        var sequence: Int64
        var task: TaskID

        func precedes(_ other: Item) -> Bool {
            if priority != other.priority { return priority > other.priority }
            if sequence != other.sequence { return sequence < other.sequence }
            return task.index < other.task.index
        }
    }

    private var heap: [Item] = []

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ item: Item) {
        heap.append(item)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Item? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var best = i
            if l < heap.count, heap[l].precedes(heap[best]) { best = l }
            if r < heap.count, heap[r].precedes(heap[best]) { best = r }
            if best == i { break }
            heap.swapAt(i, best)
            i = best
        }
        return top
    }
}
