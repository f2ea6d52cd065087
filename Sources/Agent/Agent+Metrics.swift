import CorralModel
import CorralProtocol

/// What the agent's own `/metrics` counts as it works: bounded, whatever the node runs.
struct AgentMetrics {
    /// From an allocation's launch to its task's process running (cgroup, network, root, spawn).
    var launch = LatencyHistogram()
    /// One sample of the node and every task's cgroup, with the logs kept in bound.
    var sample = LatencyHistogram(bounds: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5])
    var launches = 0
    var launchFailures = 0
    /// Reclaimable tasks made to yield, and evicted, to relieve the node's pressure.
    var yields = 0
    var evictions = 0

    mutating func launched(in duration: Duration) {
        launches += 1
        launch.observe(duration.inSeconds)
    }

    mutating func sampled(in duration: Duration) { sample.observe(duration.inSeconds) }
}

extension Agent {
    /// The agent's `/metrics` (Prometheus text): tasks it supervises by state, launches and their latency,
    /// the sampling cost, its node's load. Counts only: no tenant, job or allocation names.
    public func metricsText() -> String {
        var text = MetricsText()
        var byState: [String: Int] = ["accepted": 0, "launching": 0, "running": 0, "ended": 0]
        for entry in entries.values {
            switch entry.machine.state {
            case .accepted: byState["accepted", default: 0] += 1
            case .launching: byState["launching", default: 0] += 1
            case .running: byState["running", default: 0] += 1
            case .ended, .released: byState["ended", default: 0] += 1
            }
        }
        text.family(
            "corral_agent_tasks", "gauge",
            "Allocations the agent supervises, by state (ended: not yet confirmed to the scheduler).")
        for (state, count) in byState.sorted(by: { $0.key < $1.key }) {
            text.sample("corral_agent_tasks", ["state": state], Double(count))
        }
        text.family("corral_agent_launches_total", "counter", "Tasks launched, and launches that failed.")
        text.sample("corral_agent_launches_total", ["result": "started"], Double(metrics.launches))
        text.sample("corral_agent_launches_total", ["result": "failed"], Double(metrics.launchFailures))
        text.family(
            "corral_agent_launch_seconds", "histogram",
            "From an allocation's launch to its task running: cgroup, network, root and spawn.")
        text.histogram("corral_agent_launch_seconds", [], metrics.launch)
        text.family(
            "corral_agent_sample_seconds", "histogram",
            "One sample of the node and of every task's cgroup (the agent's sampling cost).")
        text.histogram("corral_agent_sample_seconds", [], metrics.sample)
        text.family("corral_agent_node_load", "gauge", "The node's utilisation (0-1) in the last sample.")
        text.sample("corral_agent_node_load", ["resource": "cpu"], nodeLoad.cpu)
        text.sample("corral_agent_node_load", ["resource": "memory"], nodeLoad.memory)
        text.sample("corral_agent_node_load", ["resource": "io"], nodeLoad.io)
        if let pressure {
            text.gauge(
                "corral_agent_node_pressure",
                "The share of the last sample's time some task stalled for CPU or memory.",
                pressure)
        }
        text.family(
            "corral_agent_reclaimed_total", "counter",
            "Reclaimable tasks made to yield (lowest CPU weight, soft memory limit) and evicted under pressure.")
        text.sample("corral_agent_reclaimed_total", ["action": "yield"], Double(metrics.yields))
        text.sample("corral_agent_reclaimed_total", ["action": "evict"], Double(metrics.evictions))
        text.gauge(
            "corral_agent_yielding_tasks", "Reclaimable tasks yielding now.", Double(relief?.yielding.count ?? 0))
        text.gauge("corral_agent_disk_full", "1 while the agent cannot write its records.", diskFull ? 1 : 0)
        return text.text
    }
}
