/// One node's lifecycle on the scheduler as a value: events in, actions out, no I/O (STYLE.md 3).
///
/// A node is `ready` from its registration and stays so while it heartbeats. Silent for longer than
/// the TTL, it is `down`: its tasks are lost and placed elsewhere. A heartbeat or a new registration
/// brings it back. A node loaded from the store after a scheduler restart is `restored`: placeable, but
/// not judged until the grace period ends, so that its agent has time to find the new scheduler.
public struct NodeMachine: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Loaded from the store; not judged before `until`.
        case restored(until: Double)
        /// Heard from at `lastSeen`.
        case ready(lastSeen: Double)
        /// Silent past its TTL; last heard from at `lastSeen`.
        case down(lastSeen: Double)
    }

    public enum Event: Sendable, Equatable {
        /// The node's agent registered (first time or again).
        case registered(at: Double)
        /// The node's record was loaded from the store after a scheduler restart.
        case restored(at: Double, grace: Double)
        case heartbeat(at: Double)
        /// Time passed: judge the node against `ttl`.
        case tick(at: Double, ttl: Double)
    }

    public enum Action: Sendable, Equatable {
        /// The node may take work again: mark it placeable, retry what waits for room.
        case markReady
        /// The node is gone: mark it unplaceable, its tasks are lost.
        case markDown
    }

    public private(set) var state: State

    /// A node that has just registered.
    public init(registeredAt time: Double) { state = .ready(lastSeen: time) }

    /// A node loaded from the store after a restart, not judged before `time + grace`.
    public init(restoredAt time: Double, grace: Double) { state = .restored(until: time + grace) }

    public var isReady: Bool {
        switch state {
        case .restored, .ready: true
        case .down: false
        }
    }

    /// When the scheduler last heard from the node (for a restored node: the end of its grace).
    public var lastSeen: Double {
        switch state {
        case .restored(let until): until
        case .ready(let lastSeen): lastSeen
        case .down(let lastSeen): lastSeen
        }
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.restored, .registered(let at)), (.ready, .registered(let at)),
            (.restored, .heartbeat(let at)), (.ready, .heartbeat(let at)):
            state = .ready(lastSeen: at)
            return []
        case (.down, .registered(let at)), (.down, .heartbeat(let at)):
            state = .ready(lastSeen: at)
            return [.markReady]
        case (.restored, .restored(let at, let grace)), (.ready, .restored(let at, let grace)):
            state = .restored(until: at + grace)
            return []
        case (.down, .restored(let at, let grace)):
            state = .restored(until: at + grace)
            return [.markReady]
        case (.restored(let until), .tick(let at, let ttl)):
            guard at - until > ttl else { return [] }
            state = .down(lastSeen: until)
            return [.markDown]
        case (.ready(let lastSeen), .tick(let at, let ttl)):
            guard at - lastSeen > ttl else { return [] }
            state = .down(lastSeen: lastSeen)
            return [.markDown]
        case (.down, .tick):
            return []
        }
    }
}
