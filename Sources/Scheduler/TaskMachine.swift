import CorralModel
import CorralProtocol

/// One task's lifecycle as a value: events in, actions out (STYLE.md 3). The scheduler carries out the
/// actions; this type never does I/O, so its table is tested exhaustively.
public struct TaskMachine: Sendable, Equatable, Codable {
    public private(set) var state: TaskState = .pending
    /// Runs started so far (1 after the first placement).
    public private(set) var attempt = 0
    public let maxAttempts: Int
    /// Attempts ended by the cluster's operation (a drain's deadline, eviction), not by the task: they
    /// do not count against `maxAttempts`.
    public private(set) var evictions = 0
    /// Attempts that counted against `maxAttempts`.
    public var attemptsUsed: Int { attempt - evictions }
    /// The node holding the current attempt, while scheduled or running.
    public private(set) var node: NodeID?
    /// The node of the latest attempt, kept after it ended.
    public private(set) var lastNode: NodeID?
    public private(set) var lastError: String?
    /// Failed or lost with no attempts left: on the dead-letter list.
    public var isDeadLetter: Bool { (state == .failed || state == .lost) && lastError != nil }

    public init(maxAttempts: Int) { self.maxAttempts = max(1, maxAttempts) }

    enum CodingKeys: String, CodingKey { case state, attempt, maxAttempts, node, lastNode, lastError, evictions }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = try c.decode(TaskState.self, forKey: .state)
        attempt = try c.decode(Int.self, forKey: .attempt)
        maxAttempts = try c.decode(Int.self, forKey: .maxAttempts)
        node = try c.decodeIfPresent(NodeID.self, forKey: .node)
        lastNode = try c.decodeIfPresent(NodeID.self, forKey: .lastNode)
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
        // Records stored before evictions existed have none.
        evictions = try c.decodeIfPresent(Int.self, forKey: .evictions) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encodeIfPresent(lastNode, forKey: .lastNode)
        try c.encodeIfPresent(lastError, forKey: .lastError)
        if evictions > 0 { try c.encode(evictions, forKey: .evictions) }
    }

    public enum Event: Sendable, Equatable {
        case placed(node: NodeID)
        case started
        /// The task's process ended with this status (0 = success).
        case exited(code: Int32, detail: String?)
        /// The attempt failed without an exit status of its own: exec error, OOM, killed by a signal.
        case crashed(String)
        /// Its node went down or forgot it.
        case lost(String)
        case timedOut
        case cancel
        /// The operator's doing (a drained node's deadline): the attempt is killed and the task placed
        /// again at once, without using up an attempt.
        case evicted(String)
    }

    public enum Action: Sendable, Equatable {
        /// Return the attempt's reservation on the node.
        case release(node: NodeID)
        /// Tell the node to kill the attempt.
        case kill(node: NodeID)
        /// Queue attempt `attempt` after the retry policy's backoff.
        case retry(attempt: Int)
        /// No attempts left: keep the error on the dead-letter list.
        case deadLetter(error: String)
    }

    /// Applies `event`; events that do not apply in the current state (a stale report, a second cancel)
    /// change nothing and return no actions.
    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.pending, .placed(let node)):
            state = .scheduled
            attempt += 1
            self.node = node
            lastNode = node
            return []
        case (.pending, .cancel):
            state = .killed
            return []
        case (.scheduled, .started):
            state = .running
            return []
        case (.scheduled, .exited(0, _)), (.running, .exited(0, _)):
            return finish(.completed, error: nil)
        case (.scheduled, .exited(let code, let detail)), (.running, .exited(let code, let detail)):
            return fail(.failed, error: detail ?? "exited with status \(code)", kill: false)
        case (.scheduled, .crashed(let why)), (.running, .crashed(let why)):
            return fail(.failed, error: why, kill: false)
        case (.scheduled, .lost(let why)), (.running, .lost(let why)):
            return fail(.lost, error: why, kill: false)
        case (.scheduled, .timedOut), (.running, .timedOut):
            return fail(.failed, error: "timed out", kill: true)
        case (.scheduled, .evicted(let why)), (.running, .evicted(let why)):
            let node = self.node
            evictions += 1
            lastError = why
            self.node = nil
            state = .pending
            return (node.map { [.kill(node: $0), .release(node: $0)] } ?? []) + [.retry(attempt: attempt + 1)]
        case (.scheduled, .cancel), (.running, .cancel):
            let node = self.node
            var actions = finish(.killed, error: nil)
            if let node { actions.insert(.kill(node: node), at: 0) }
            return actions
        case (.pending, .started), (.pending, .exited), (.pending, .crashed), (.pending, .lost), (.pending, .timedOut),
            (.pending, .evicted),
            (.scheduled, .placed), (.running, .placed), (.running, .started):
            return []  // a stale report, or one about an attempt not placed yet: nothing to do
        case (.completed, _), (.failed, _), (.killed, _), (.lost, _):
            return []  // ended for good: a retry goes through pending, never through an ended state
        }
    }

    private mutating func finish(_ end: TaskState, error: String?) -> [Action] {
        let node = self.node
        state = end
        self.node = nil
        if let error { lastError = error }
        return node.map { [.release(node: $0)] } ?? []
    }

    private mutating func fail(_ end: TaskState, error: String, kill: Bool) -> [Action] {
        let node = self.node
        var actions: [Action] = []
        if kill, let node { actions.append(.kill(node: node)) }
        if let node { actions.append(.release(node: node)) }
        self.node = nil
        lastError = error
        if attemptsUsed < maxAttempts {
            state = .pending
            actions.append(.retry(attempt: attempt + 1))
        } else {
            state = end
            actions.append(.deadLetter(error: error))
        }
        return actions
    }
}
