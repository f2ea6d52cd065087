import CorralModel
import CorralProtocol

/// One task's lifecycle as a value: events in, actions out (STYLE.md 3). The scheduler carries out the
/// actions; this type never does I/O, so its table is tested exhaustively.
public struct TaskMachine: Sendable, Equatable, Codable {
    public private(set) var state: TaskState = .pending
    /// Runs started so far (1 after the first placement).
    public private(set) var attempt = 0
    public let maxAttempts: Int
    /// The node holding the current attempt, while scheduled or running.
    public private(set) var node: NodeID?
    /// The node of the latest attempt, kept after it ended.
    public private(set) var lastNode: NodeID?
    public private(set) var lastError: String?
    /// Failed or lost with no attempts left: on the dead-letter list.
    public var isDeadLetter: Bool { (state == .failed || state == .lost) && lastError != nil }

    public init(maxAttempts: Int) { self.maxAttempts = max(1, maxAttempts) }

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
        case (.scheduled, .cancel), (.running, .cancel):
            let node = self.node
            var actions = finish(.killed, error: nil)
            if let node { actions.insert(.kill(node: node), at: 0) }
            return actions
        case (.pending, .started), (.pending, .exited), (.pending, .crashed), (.pending, .lost), (.pending, .timedOut),
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
        if attempt < maxAttempts {
            state = .pending
            actions.append(.retry(attempt: attempt + 1))
        } else {
            state = end
            actions.append(.deadLetter(error: error))
        }
        return actions
    }
}
