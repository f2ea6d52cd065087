import CorralProtocol

/// How the agent relieves a node under pressure at the expense of its reclaimable tasks alone, as a value:
/// samples in, actions out, no I/O (STYLE.md 3).
///
/// Pressure is the share of the last sample's wall time in which some task of the node waited for CPU or
/// memory (PSI `some`). When it reaches `threshold`, every reclaimable task yields (lowest CPU weight, a
/// soft memory limit at what it holds); if it stays at or above the threshold for `evictAfter` seconds
/// with them yielding, the newest reclaimable task is evicted, and another after each further
/// `evictAfter` (the episode lasts while pressure stays above half the threshold). Guaranteed tasks are
/// never touched. Once pressure has stayed under half the threshold for `restoreAfter` seconds, the
/// reclaimable tasks stop yielding.
public struct PressureRelief: Sendable, Equatable {
    public struct Settings: Sendable, Equatable, Codable {
        /// The PSI `some` share (0...1) at which reclaimable tasks yield (the agent's configuration holds no
        /// settings when relief is off).
        public var threshold: Double
        /// Seconds of pressure before an eviction, and of calm before the rest stop yielding.
        public var evictAfter: Double
        public var restoreAfter: Double

        public init(threshold: Double = 0.25, evictAfter: Double = 10, restoreAfter: Double = 30) {
            self.threshold = threshold
            self.evictAfter = evictAfter
            self.restoreAfter = restoreAfter
        }
    }

    /// A running reclaimable task: its allocation and when it started here.
    public struct Candidate: Sendable, Equatable {
        public var id: AllocationID
        public var started: Double

        public init(id: AllocationID, started: Double) {
            self.id = id
            self.started = started
        }
    }

    public enum Action: Sendable, Hashable {
        case yield(AllocationID)
        case restore(AllocationID)
        case evict(AllocationID, reason: String)
    }

    public let settings: Settings
    /// Since when pressure has been at or above the threshold (nil: it is not), and the last eviction.
    public private(set) var pressedSince: Double?
    public private(set) var lastEviction: Double?
    /// Since when the episode's pressure has been under half the threshold, while tasks yield.
    public private(set) var calmSince: Double?
    /// The tasks made to yield and not yet restored.
    public private(set) var yielding: Set<AllocationID> = []

    public init(settings: Settings) { self.settings = settings }

    /// One sample of the node's pressure at `now`, with the reclaimable tasks running now.
    public mutating func observe(pressure: Double, at now: Double, reclaimable: [Candidate]) -> [Action] {
        let running = Set(reclaimable.map(\.id))
        yielding.formIntersection(running)  // ended ones need nothing more
        // An episode begins at the threshold and lasts until pressure falls under half of it, so that a
        // sample or two just under the threshold does not start the wait for an eviction over.
        if pressure >= settings.threshold || (pressedSince != nil && pressure >= settings.threshold / 2) {
            calmSince = nil
            let since = pressedSince ?? now
            pressedSince = since
            var actions: [Action] = []
            for candidate in reclaimable where !yielding.contains(candidate.id) {
                yielding.insert(candidate.id)
                actions.append(.yield(candidate.id))
            }
            // Evict only after the tasks yielded for a while (and a while after the last eviction).
            let waitedFrom = max(since, lastEviction ?? since)
            if now - waitedFrom >= settings.evictAfter,
                let newest = reclaimable.max(by: { ($0.started, $0.id.description) < ($1.started, $1.id.description) })
            {
                lastEviction = now
                yielding.remove(newest.id)
                let percent = Int((pressure * 100).rounded())
                actions.append(.evict(newest.id, reason: "evicted: node pressure (\(percent)% of time stalled)"))
            }
            return actions
        }
        pressedSince = nil
        lastEviction = nil
        guard !yielding.isEmpty else { return [] }
        let calm = calmSince ?? now
        calmSince = calm
        guard now - calm >= settings.restoreAfter else { return [] }
        calmSince = nil
        defer { yielding.removeAll() }
        return yielding.sorted { $0.description < $1.description }.map { .restore($0) }
    }
}
