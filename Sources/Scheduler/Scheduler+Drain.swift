import CorralProtocol
import Logging
import Store

extension Scheduler {
    /// Drains a node: no new work; at `deadline` seconds from now (nil: never) its remaining tasks are
    /// evicted and placed again without using up an attempt. Returns its status, nil for an unknown node.
    public func drain(node: NodeID, deadline seconds: Double?) async throws -> NodeStatus? {
        let time = now()
        guard let (record, evicted) = core.drain(node: node, deadline: seconds.map { time + $0 }, now: time) else {
            return nil
        }
        try await persist(evicted, also: [.put(StoreKeys.node(node), try encode(record))])
        wake(node)
        logger.notice(
            "node draining",
            metadata: [
                "node": "\(node)", "deadline": "\(seconds.map { "\($0) s" } ?? "none")", "evicted": "\(evicted.count)",
            ])
        try await schedule()
        return core.nodeStatuses.first { $0.id == node }
    }

    /// Ends a node's drain. Returns its status, nil for an unknown node.
    public func undrain(node: NodeID) async throws -> NodeStatus? {
        guard let record = core.undrain(node: node) else { return nil }
        _ = try await store.txn(then: [.put(StoreKeys.node(node), try encode(record))])
        logger.notice("node no longer draining", metadata: ["node": "\(node)"])
        try await schedule()
        return core.nodeStatuses.first { $0.id == node }
    }
}
