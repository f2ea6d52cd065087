import CorralModel
import CorralProtocol
import Forecast
import Placement

/// Events alert rules look back on (a task dead-lettered, an attempt OOM-killed), the latest first out:
/// at most `limit`, so that no flood of failures grows the scheduler's memory.
struct AlertEvents: Sendable {
    struct Event: Sendable {
        var kind: AlertRule.Kind
        var subject: String
        var summary: String
        var at: Double
    }

    let limit = 1000
    private(set) var events: [Event] = []

    mutating func record(_ kind: AlertRule.Kind, subject: String, summary: String, at time: Double) {
        events.append(Event(kind: kind, subject: subject, summary: summary, at: time))
        if events.count > limit { events.removeFirst(events.count - limit) }
    }
}

extension SchedulerCore {
    /// What each configured alert rule sees now.
    public func alertConditions(now: Double) -> [AlertCondition] {
        var conditions: [AlertCondition] = []
        for rule in configuration.alerts {
            switch rule.kind {
            case .deadLetter, .oomKilled:
                for event in alertEvents.events where event.kind == rule.kind && now - event.at < rule.active {
                    conditions.append(
                        AlertCondition(rule: rule.name, subject: event.subject, summary: event.summary, since: event.at)
                    )
                }
            case .nodeDown:
                for id in nodes.ids.sorted() {
                    guard let node = nodes[id], !node.machine.isReady else { continue }
                    conditions.append(
                        AlertCondition(
                            rule: rule.name, subject: id.rawValue,
                            summary: "node \(id) is down: no heartbeat for \(Int(now - node.machine.lastSeen)) s",
                            since: node.machine.lastSeen))
                }
            case .nodeTripped:
                for id in nodes.ids.sorted() {
                    guard let node = nodes[id], !node.breaker.admits else { continue }
                    conditions.append(
                        AlertCondition(
                            rule: rule.name, subject: id.rawValue,
                            summary: "node \(id)'s circuit breaker is \(node.breaker.name): "
                                + (node.breaker.reason ?? "launches failed")))
                }
            case .tenantQuota: conditions += quotaConditions(rule)
            case .capacity: conditions += capacityConditions(rule)
            case .loadAnomaly: conditions += anomalyConditions(rule)
            }
        }
        return conditions
    }

    static let resourceNames = ["cpu", "memory", "io"]

    func quotaConditions(_ rule: AlertRule) -> [AlertCondition] {
        var conditions: [AlertCondition] = []
        for (tenant, quota) in configuration.quotas.sorted(by: { $0.key < $1.key }) {
            for (resource, value, limit) in ledger.usage(of: tenant).shares(of: quota) {
                guard let limit, limit > 0, value / limit > rule.limit else { continue }
                conditions.append(
                    AlertCondition(
                        rule: rule.name, subject: "\(tenant)/\(resource)",
                        summary: "tenant \(tenant) holds \(Self.percent(value / limit)) of its \(resource) quota "
                            + "(over \(Self.percent(rule.limit)))"))
            }
        }
        return conditions
    }

    func capacityConditions(_ rule: AlertRule) -> [AlertCondition] {
        var conditions: [AlertCondition] = []
        for id in nodes.ids.sorted() {
            guard let bounds = forecaster.upperBounds95(node: id.rawValue) else { continue }
            for (k, resource) in Self.resourceNames.enumerated() {
                let reaching = zip(configuration.forecastHorizons, bounds).first { _, load in
                    [load.cpu, load.memory, load.io][k] >= rule.limit
                }
                guard let (horizon, load) = reaching else { continue }
                let value = [load.cpu, load.memory, load.io][k]
                conditions.append(
                    AlertCondition(
                        rule: rule.name, subject: "\(id)/\(resource)",
                        summary: "node \(id)'s \(resource) could reach \(Self.percent(value)) within "
                            + "\(Int(horizon)) s (95% forecast bound)"))
            }
        }
        return conditions
    }

    func anomalyConditions(_ rule: AlertRule) -> [AlertCondition] {
        var conditions: [AlertCondition] = []
        for id in nodes.ids.sorted() {
            for (k, judge) in forecaster.anomalies(node: id.rawValue).enumerated()
            where judge.outside >= (rule.samples ?? 3) {
                guard let last = judge.last else { continue }
                conditions.append(
                    AlertCondition(
                        rule: rule.name, subject: "\(id)/\(Self.resourceNames[k])",
                        summary: "node \(id)'s \(Self.resourceNames[k]) load \(Self.percent(last.value)) has been "
                            + "outside its forecast's 95% interval for \(judge.outside) samples (expected "
                            + "\(Self.percent(last.low))-\(Self.percent(last.high)))"))
            }
        }
        return conditions
    }

    /// `75%`; never traps, whatever the share.
    static func percent(_ share: Double) -> String {
        let value = (share * 100).rounded()
        return value.isFinite && abs(value) < 1e15 ? "\(Int64(value))%" : "\(share * 100)%"
    }
}
