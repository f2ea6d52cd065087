import CorralProtocol

extension Scheduler {
    /// Every registered node's recent load and forecast path (the console's charts).
    public func loadCharts(history: Int = 60, steps: Int = 24) -> [NodeLoadChart] {
        core.nodeStatuses.compactMap { core.forecaster.chart(node: $0.id, history: history, steps: steps) }
    }
}
