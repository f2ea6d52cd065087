import CorralModel
import CorralProtocol
import Hummingbird
import NIOCore
import Prometheus
import Scheduler

extension SchedulerAPI {
    /// `GET /metrics`: the counters kept as requests arrive, then the cluster's state now.
    func addMetricsRoute(_ router: Router<SchedulerRequestContext>) {
        router.get("/metrics") { _, context in
            if config.metricsPublic != true { try context.require([.admin, .metrics]) }
            var bytes = metrics.emitToBuffer()
            var text = MetricsText()
            text.gauge(
                "corral_open_long_polls", "Agents' long-polls waiting for orders when /metrics was read.",
                Double(await scheduler.openPolls))
            text.gauge(
                "corral_leader",
                "1 when this scheduler serves the API (the elected leader, or the only scheduler), else 0.",
                role.current.serves ? 1 : 0)
            Self.storeSeries(&text, scheduler.storeLatency.snapshot)
            // A follower's core holds nothing yet: it shows only what it measures itself.
            if role.current.serves {
                Self.stateSeries(&text, await scheduler.metricsSnapshot())
            }
            await Self.alertSeries(&text, firing: await scheduler.firingAlerts, rules: config.alerts ?? [], alerts)
            bytes += Array(text.text.utf8)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    static func alertSeries(
        _ text: inout MetricsText, firing: [AlertNotification], rules: [AlertRule], _ sender: AlertSender?
    ) async {
        text.family("corral_alerts_firing", "gauge", "Alerts firing now, by rule.")
        for rule in rules {
            text.sample(
                "corral_alerts_firing", ["rule": rule.name], Double(firing.filter { $0.rule == rule.name }.count))
        }
        text.family(
            "corral_alert_notifications_total", "counter",
            "Notifications delivered to webhooks, given up after their retries, dropped from a full queue.")
        text.sample("corral_alert_notifications_total", ["result": "delivered"], Double(await sender?.delivered ?? 0))
        text.sample("corral_alert_notifications_total", ["result": "failed"], Double(await sender?.failed ?? 0))
        text.sample("corral_alert_notifications_total", ["result": "dropped"], Double(await sender?.dropped ?? 0))
    }

    static func storeSeries(_ text: inout MetricsText, _ latency: LatencyHistogram) {
        text.family(
            "corral_store_transaction_seconds", "histogram", "Time a store transaction took (SQLite, or etcd).")
        text.histogram("corral_store_transaction_seconds", [], latency)
    }

    static func stateSeries(_ text: inout MetricsText, _ snapshot: SchedulerCore.MetricsSnapshot) {
        text.family(
            "corral_tasks", "gauge", "Tasks the scheduler holds, by tenant and state (ended ones until removed).")
        for (tenant, states) in snapshot.tasks.sorted(by: { $0.key < $1.key }) {
            for state in TaskState.allCases {
                text.sample("corral_tasks", ["tenant": tenant, "state": state.rawValue], Double(states[state] ?? 0))
            }
        }
        text.gauge(
            "corral_queue_depth",
            "Tasks waiting to be placed (queued, backing off, waiting for room, quota or upstream).",
            Double(snapshot.queued))
        text.gauge(
            "corral_queue_oldest_seconds", "How long the task waiting longest has waited (0 when none waits).",
            snapshot.oldestQueuedSeconds)
        text.gauge("corral_dead_letters", "Tasks that used up their attempts.", Double(snapshot.deadLetters))
        let counters = snapshot.counters
        text.family(
            "corral_placement_decisions_total", "counter",
            "Placement decisions: a task placed, or left waiting for room on a node or for its tenant's quota.")
        text.sample("corral_placement_decisions_total", ["result": "placed"], Double(counters.placed))
        text.sample("corral_placement_decisions_total", ["result": "no_room"], Double(counters.waitedForRoom))
        text.sample("corral_placement_decisions_total", ["result": "over_quota"], Double(counters.waitedForQuota))
        text.family(
            "corral_tasks_evicted_total", "counter",
            "Tasks evicted (placed again, no attempt used): at a drained node's deadline, or reclaimable tasks their "
                + "agent evicted under pressure.")
        text.sample(
            "corral_tasks_evicted_total", ["reason": "drain"], Double(counters.evicted - counters.pressureEvictions))
        text.sample("corral_tasks_evicted_total", ["reason": "pressure"], Double(counters.pressureEvictions))
        text.family(
            "corral_scheduling_latency_seconds", "histogram",
            "submit_to_placed: a job's submission (or a schedule's fire) to its task's first placement; "
                + "placed_to_running: each placement to its agent's report that it runs.")
        text.histogram("corral_scheduling_latency_seconds", [("phase", "submit_to_placed")], counters.submitToPlaced)
        text.histogram("corral_scheduling_latency_seconds", [("phase", "placed_to_running")], counters.placedToRunning)
        nodeSeries(&text, snapshot)
        tenantSeries(&text, snapshot)
    }

    static let resources = ["cpu", "memory", "io"]

    static func loads(_ load: NodeLoad) -> [Double] { [load.cpu, load.memory, load.io] }

    static func nodeSeries(_ text: inout MetricsText, _ snapshot: SchedulerCore.MetricsSnapshot) {
        let all = snapshot.nodes
        text.family("corral_node_up", "gauge", "1 while the node's agent heartbeats (within its TTL), else 0.")
        for node in all { text.sample("corral_node_up", ["node": node.id.rawValue], node.ready ? 1 : 0) }
        text.family("corral_node_draining", "gauge", "1 while an admin drains the node.")
        for node in all { text.sample("corral_node_draining", ["node": node.id.rawValue], node.draining ? 1 : 0) }
        text.family("corral_node_heartbeat_age_seconds", "gauge", "Seconds since the node's agent was last heard from.")
        for node in all {
            text.sample("corral_node_heartbeat_age_seconds", ["node": node.id.rawValue], node.heartbeatAge)
        }
        text.family("corral_node_running_tasks", "gauge", "Tasks the node's agent last reported running.")
        for node in all { text.sample("corral_node_running_tasks", ["node": node.id.rawValue], Double(node.running)) }
        text.family(
            "corral_node_reserved_ratio", "gauge", "Share of the node's capacity reserved by placed tasks' requests.")
        for node in all {
            let cpu = Double(node.reserved.cpuMillis) / Double(max(1, node.capacity.cpuMillis))
            let memory = Double(node.reserved.memory) / Double(max(1, node.capacity.memory))
            text.sample("corral_node_reserved_ratio", ["node": node.id.rawValue, "resource": "cpu"], cpu)
            text.sample("corral_node_reserved_ratio", ["node": node.id.rawValue, "resource": "memory"], memory)
        }
        if all.contains(where: { $0.reclaimable != nil || $0.reclaimableReserved != nil }) {
            // Cores and bytes of a per-node vector, for the nodes that have one.
            func vectors(
                _ name: String, _ help: String, _ value: (SchedulerCore.MetricsSnapshot.Node) -> ResourceVector?
            ) {
                text.family(name, "gauge", help)
                for node in all {
                    guard let vector = value(node) else { continue }
                    text.sample(name, ["node": node.id.rawValue, "resource": "cpu"], Double(vector.cpuMillis) / 1000)
                    text.sample(name, ["node": node.id.rawValue, "resource": "memory"], Double(vector.memory))
                }
            }
            vectors(
                "corral_node_reclaimable",
                "With reclamation: capacity forecast idle inside the node's reservations (cores, bytes), which "
                    + "reclaimable tasks may use.", \.reclaimable)
            vectors(
                "corral_node_reclaimable_reserved",
                "What reclaimable tasks placed on the node requested (cores, bytes), apart from its reservations.",
                \.reclaimableReserved)
        }
        text.family("corral_node_load", "gauge", "The node's measured utilisation (0-1) in its last heartbeat.")
        for node in all {
            for (resource, value) in zip(resources, loads(node.usage)) {
                text.sample("corral_node_load", ["node": node.id.rawValue, "resource": resource], value)
            }
        }
        text.family(
            "corral_node_forecast", "gauge",
            "The node's forecast utilisation (0-1) over each horizon, as placement scores it (ARIMA, or the "
                + "moving average while history is short).")
        for node in all {
            for (horizon, load) in zip(snapshot.horizons, node.forecasts) {
                for (resource, value) in zip(resources, loads(load)) {
                    text.sample(
                        "corral_node_forecast",
                        [
                            "node": node.id.rawValue, "resource": resource,
                            "horizon_seconds": MetricsText.number(horizon),
                        ],
                        value)
                }
            }
        }
        text.gauge(
            "corral_nodes_breaker_open",
            "Nodes whose circuit breaker keeps them from work (open, half-open or probing).",
            Double(all.filter(\.breakerOpen).count))
        text.gauge(
            "corral_node_breaker_trips",
            "Times a node's circuit breaker tripped, over the registered nodes, since this scheduler led.",
            Double(all.reduce(0) { $0 + $1.breakerTrips }))
    }

    static func tenantSeries(_ text: inout MetricsText, _ snapshot: SchedulerCore.MetricsSnapshot) {
        // (tenant, resource, used, quota) for every tenant.
        var rows: [(String, String, Double, Double?)] = []
        for (tenant, used) in snapshot.tenants.sorted(by: { $0.key < $1.key }) {
            rows += used.shares(of: snapshot.quotas[tenant]).map { (tenant, $0.resource, $0.used, $0.limit) }
        }
        text.family(
            "corral_tenant_usage", "gauge", "What the tenant's placed tasks hold: cpu cores, memory bytes, tasks.")
        for (tenant, resource, used, _) in rows {
            text.sample("corral_tenant_usage", ["tenant": tenant, "resource": resource], used)
        }
        text.family("corral_tenant_quota", "gauge", "The tenant's quota per resource (absent: unlimited).")
        for (tenant, resource, _, limit) in rows {
            if let limit { text.sample("corral_tenant_quota", ["tenant": tenant, "resource": resource], limit) }
        }
        text.family("corral_tenant_quota_used_ratio", "gauge", "Share of the tenant's quota its placed tasks hold.")
        for (tenant, resource, used, limit) in rows {
            guard let limit else { continue }
            text.sample(
                "corral_tenant_quota_used_ratio", ["tenant": tenant, "resource": resource], limit > 0 ? used / limit : 0
            )
        }
    }
}
