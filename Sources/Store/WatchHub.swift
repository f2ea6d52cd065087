import Synchronization

/// In-process fan-out of committed events with a bounded replay ring, for `SQLiteStore.watch`.
final class WatchHub: Sendable {
    private struct Subscriber {
        var prefix: String
        var continuation: AsyncThrowingStream<[WatchEvent], any Error>.Continuation
    }

    private struct State {
        var revision: Revision
        /// Oldest revision still replayable minus one: a watch after an earlier one is compacted.
        var floor: Revision
        var ring: [(Revision, [WatchEvent])] = []
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>
    private let replayLimit: Int

    init(revision: Revision, replayLimit: Int) {
        state = Mutex(State(revision: revision, floor: revision))
        self.replayLimit = max(replayLimit, 1)
    }

    func publish(_ events: [WatchEvent], revision: Revision) {
        state.withLock { state in
            state.revision = revision
            state.ring.append((revision, events))
            // Trimmed in batches: dropping one entry per commit would move the whole ring each time.
            if state.ring.count >= 2 * replayLimit {
                let drop = state.ring.count - replayLimit
                state.floor = state.ring[drop - 1].0
                state.ring.removeFirst(drop)
            }
            for subscriber in state.subscribers.values {
                let matching = events.filter { Self.key(of: $0).hasPrefix(subscriber.prefix) }
                if !matching.isEmpty { subscriber.continuation.yield(matching) }
            }
        }
    }

    func compact(upTo revision: Revision) {
        state.withLock { state in
            state.ring.removeAll { $0.0 <= revision }
            state.floor = max(state.floor, revision)
        }
    }

    func subscribe(prefix: String, after: Revision) -> AsyncThrowingStream<[WatchEvent], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[WatchEvent], any Error>.makeStream()
        let id: Int? = state.withLock { state in
            guard after >= state.floor else {
                continuation.finish(throwing: StoreError.compacted(state.floor))
                return nil
            }
            for (revision, events) in state.ring where revision > after {
                let matching = events.filter { Self.key(of: $0).hasPrefix(prefix) }
                if !matching.isEmpty { continuation.yield(matching) }
            }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(prefix: prefix, continuation: continuation)
            return id
        }
        if let id {
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
            }
        }
        return stream
    }

    static func key(of event: WatchEvent) -> String {
        switch event {
        case .put(let kv): kv.key
        case .delete(let key, _): key
        }
    }
}
