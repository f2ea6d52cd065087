import CorralModel
import CorralProtocol
import Placement

/// Draining a node for maintenance (`corral node drain`): nothing new is placed on it; at its deadline the
/// tasks still there are evicted, killed and placed elsewhere at once without using up an attempt.
extension SchedulerCore {
    /// Starts draining a node, or changes the deadline of a drain under way (its start is kept). Returns
    /// the node's record for the caller to persist and the tasks evicted at once (a deadline already
    /// past); nil for a node that is not registered.
    public mutating func drain(node: NodeID, deadline: Double?, now: Double) -> (NodeRecord, [TaskRecord])? {
        let since = nodes[node]?.record.drain?.since ?? now
        guard let record = nodes.setDrain(NodeDrain(since: since, deadline: deadline), node: node) else { return nil }
        view.setReady(node.rawValue, placeable(node))
        return (record, evictDrained(now: now))
    }

    /// Ends a node's drain: it takes work again. Nil for a node that is not registered.
    public mutating func undrain(node: NodeID) -> NodeRecord? {
        guard let record = nodes.setDrain(nil, node: node) else { return nil }
        view.setReady(node.rawValue, placeable(node))
        if placeable(node) { unblockAll() }
        return record
    }

    /// Evicts the tasks on every drained node whose deadline has come.
    mutating func evictDrained(now: Double) -> [TaskRecord] {
        var changed: [TaskRecord] = []
        for id in nodes.draining {
            guard let deadline = nodes[id]?.record.drain?.deadline, deadline <= now else { continue }
            for task in table.placed(on: id) {
                if let record = apply(.evicted("evicted: node \(id) was drained"), to: task, now: now) {
                    changed.append(record)
                }
            }
        }
        return changed
    }

    /// Whether a drained node has no task placed on it any more.
    func isDrained(_ node: NodeID) -> Bool {
        nodes.draining.contains(node) && table.placed(on: node).isEmpty
    }
}
