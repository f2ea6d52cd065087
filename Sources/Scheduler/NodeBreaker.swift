import CorralProtocol

/// A node's circuit breaker as a value (STYLE.md 3): launches that fail for the node's own reasons (its
/// sandbox setup, an image or volume it lacks, a full disk; never the task's command) trip it after
/// `threshold` in a row. Tripped (`open`), the node takes no work for the cool-down; then it takes one
/// probe task (`halfOpen`, then `probing`); the probe's launch closes the breaker, its failure opens it
/// again.
public struct NodeBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: Double)
        /// Cooled down: the next task placed on the node is the probe.
        case halfOpen
        /// The probe is out.
        case probing(AllocationID, since: Double)
    }

    public enum Event: Sendable, Equatable {
        /// A launch on the node failed for the node's own reason.
        case launchFailed(String, at: Double)
        /// A task started on the node (or ended having run).
        case launched(AllocationID)
        /// A task was placed on the node.
        case placed(AllocationID, at: Double)
        case tick(at: Double)
    }

    public private(set) var state: State = .closed(failures: 0)
    /// Why it tripped last.
    public private(set) var reason: String?
    /// Times it tripped, for the metrics.
    public private(set) var trips = 0
    public let threshold: Int
    public let cooldown: Double

    public init(threshold: Int, cooldown: Double) {
        self.threshold = max(1, threshold)
        self.cooldown = max(0, cooldown)
    }

    /// A breaker in `state` (tests of every state and event).
    init(threshold: Int, cooldown: Double, state: State) {
        self.init(threshold: threshold, cooldown: cooldown)
        self.state = state
    }

    /// Whether placement may put a task on the node (closed, or half open for its probe).
    public var admits: Bool {
        switch state {
        case .closed, .halfOpen: true
        case .open, .probing: false
        }
    }

    /// `closed`, `open`, `half-open` or `probing`, for `corral nodes` and the API.
    public var name: String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half-open"
        case .probing: "probing"
        }
    }

    /// Applies `event`; true when `admits` may have changed (the node's placeability follows).
    public mutating func handle(_ event: Event) -> Bool {
        let before = admits
        switch (state, event) {
        case (.closed(let failures), .launchFailed(let why, let at)):
            if failures + 1 >= threshold {
                trip("\(failures + 1) launch\(failures == 0 ? "" : "es") in a row failed on the node: \(why)", at: at)
            } else {
                state = .closed(failures: failures + 1)
            }
        case (.probing, .launchFailed(let why, let at)), (.halfOpen, .launchFailed(let why, let at)):
            trip("the probe task failed to launch: \(why)", at: at)
        case (.closed, .launched):
            state = .closed(failures: 0)
        case (.probing(let probe, _), .launched(let id)) where probe == id:
            state = .closed(failures: 0)
        case (.halfOpen, .placed(let id, let at)):
            state = .probing(id, since: at)
        case (.open(let until), .tick(let at)) where at >= until:
            state = .halfOpen
        case (.probing(_, let since), .tick(let at)) where at - since >= max(cooldown, 60):
            // The probe never reported (cancelled, or its node went down): another may be placed.
            state = .halfOpen
        case (.open, _), (.halfOpen, _), (.probing, _), (.closed, _):
            break
        }
        return admits != before
    }

    private mutating func trip(_ why: String, at time: Double) {
        state = .open(until: time + cooldown)
        reason = why
        trips += 1
    }
}
