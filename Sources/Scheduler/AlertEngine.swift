import CorralProtocol

/// A condition an alert rule sees now: the rule's name, what it is about, and what to say.
public struct AlertCondition: Sendable, Equatable {
    public var rule: String
    public var subject: String
    public var summary: String
    /// When the condition began, if the state says (a node's last heartbeat, an event's time).
    public var since: Double?

    public init(rule: String, subject: String, summary: String, since: Double? = nil) {
        self.rule = rule
        self.subject = subject
        self.summary = summary
        self.since = since
    }
}

/// Turns what the rules see at each evaluation into notifications (STYLE.md 3: no I/O): a new condition
/// fires once, one still holding is re-sent after its rule's resend interval, one gone is resolved once.
public struct AlertEngine: Sendable {
    struct Key: Hashable {
        var rule: String
        var subject: String
    }

    struct Active {
        var notification: AlertNotification
        var lastSent: Double
    }

    /// The most alerts firing at once: past it, new conditions wait (counted in `withheld`) so that a
    /// flood (every task of a huge job dead-lettered) cannot grow memory or the webhook's queue without bound.
    public let capacity: Int
    var active: [Key: Active] = [:]
    public private(set) var withheld = 0

    public init(capacity: Int = 10_000) { self.capacity = capacity }

    /// The firing alerts, oldest first.
    public var firing: [AlertNotification] {
        active.values.map(\.notification).sorted { ($0.startsAt, $0.id) < ($1.startsAt, $1.id) }
    }

    /// Compares what the rules see now with what fired before; returns each notification with its webhook.
    public mutating func evaluate(_ conditions: [AlertCondition], rules: [AlertRule], now: Double) -> [(
        webhook: String, notification: AlertNotification
    )] {
        let byName = Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var out: [(String, AlertNotification)] = []
        var seen = Set<Key>()
        withheld = 0
        for condition in conditions {
            guard let rule = byName[condition.rule] else { continue }
            let key = Key(rule: condition.rule, subject: condition.subject)
            guard seen.insert(key).inserted else { continue }
            if var alert = active[key] {
                alert.notification.summary = condition.summary
                if now - alert.lastSent >= rule.resend {
                    alert.notification.resends += 1
                    alert.notification.sentAt = now
                    alert.lastSent = now
                    out.append((rule.webhook, alert.notification))
                }
                active[key] = alert
                continue
            }
            guard active.count < capacity else {
                withheld += 1
                continue
            }
            let starts = condition.since ?? now
            let notification = AlertNotification(
                id: "\(rule.name)/\(condition.subject)/\(Int64(starts * 1000))", status: "firing", rule: rule.name,
                kind: rule.kind.rawValue, subject: condition.subject, summary: condition.summary, startsAt: starts,
                sentAt: now)
            active[key] = Active(notification: notification, lastSent: now)
            out.append((rule.webhook, notification))
        }
        for (key, alert) in active where !seen.contains(key) {
            active[key] = nil
            // A rule taken out of the configuration resolves nothing: there is no webhook to tell.
            guard let rule = byName[key.rule] else { continue }
            var resolved = alert.notification
            resolved.status = "resolved"
            resolved.endsAt = now
            resolved.sentAt = now
            out.append((rule.webhook, resolved))
        }
        return out
    }
}
