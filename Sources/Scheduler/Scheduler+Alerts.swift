import CorralProtocol

extension Scheduler {
    /// Evaluates the alert rules against the state now; returns the notifications to send, each with its
    /// rule's webhook. Call about once a second on the leader.
    public func evaluateAlerts() -> [(webhook: String, notification: AlertNotification)] {
        let rules = core.configuration.alerts
        guard !rules.isEmpty else { return [] }
        let time = now()
        return alertEngine.evaluate(core.alertConditions(now: time), rules: rules, now: time)
    }

    /// The alerts firing now, oldest first.
    public var firingAlerts: [AlertNotification] { alertEngine.firing }
}
