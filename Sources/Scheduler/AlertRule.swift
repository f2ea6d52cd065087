import CorralModel
import Foundation

/// One alert rule of the configuration (`alerts`): what to watch and where to send it. A rule fires once
/// per subject (a node, a task, a tenant's resource), is re-sent every `resendSeconds` while it holds,
/// and sends one resolution when it stops holding.
public struct AlertRule: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A task used up its attempts (an event: held for `activeSeconds`).
        case deadLetter = "dead-letter"
        /// A task's attempt was OOM-killed at its memory limit (an event: held for `activeSeconds`).
        case oomKilled = "oom-killed"
        /// A node's agent stopped heartbeating (down until it is heard from again or forgotten).
        case nodeDown = "node-down"
        /// A node's circuit breaker keeps it from work.
        case nodeTripped = "node-tripped"
        /// A tenant's placed tasks hold more than `threshold` of its quota on a resource.
        case tenantQuota = "tenant-quota"
        /// A node's 95% forecast bound reaches `threshold` (default 100%) of a resource within the longest
        /// forecast horizon.
        case capacity
        /// A node's measured load stayed outside its forecast's 95% interval for `samples` samples in a row.
        case loadAnomaly = "load-anomaly"
    }

    public var name: String
    public var kind: Kind
    /// Where notifications are POSTed (JSON): http:// or https://.
    public var webhook: String
    /// How often an alert still firing is sent again (default 3600 s).
    public var resendSeconds: Double?
    /// tenant-quota: the share of the quota (default 0.9); capacity: the utilisation (default 1.0).
    public var threshold: Double?
    /// dead-letter and oom-killed: how long after the event the alert holds before it resolves (default 3600 s).
    public var activeSeconds: Double?
    /// load-anomaly: samples in a row outside the 95% interval (default 3).
    public var samples: Int?

    public init(
        name: String, kind: Kind, webhook: String, resendSeconds: Double? = nil, threshold: Double? = nil,
        activeSeconds: Double? = nil, samples: Int? = nil
    ) {
        self.name = name
        self.kind = kind
        self.webhook = webhook
        self.resendSeconds = resendSeconds
        self.threshold = threshold
        self.activeSeconds = activeSeconds
        self.samples = samples
    }

    public var resend: Double { resendSeconds ?? 3600 }
    public var active: Double { activeSeconds ?? 3600 }
    public var limit: Double { threshold ?? (kind == .capacity ? 1.0 : 0.9) }

    /// What is wrong with the rule, each problem naming its field under `prefix` (`alerts[2].`).
    public func problems(prefix: String) -> [ValueError] {
        var problems: [ValueError] = []
        if !Names.isValid(name, maxLength: 63) {
            problems.append(ValueError(field: prefix + "name", message: "\"\(name)\" is not a valid name"))
        }
        let url = URL(string: webhook)
        if !(url?.scheme == "http" || url?.scheme == "https") || url?.host() == nil || webhook.count > 2048 {
            problems.append(ValueError(field: prefix + "webhook", message: "must be an http:// or https:// URL"))
        }
        if let resendSeconds, !(1...604_800).contains(resendSeconds) {
            problems.append(ValueError(field: prefix + "resendSeconds", message: "must be within 1...604800 seconds"))
        }
        if let activeSeconds, !(1...604_800).contains(activeSeconds) {
            problems.append(ValueError(field: prefix + "activeSeconds", message: "must be within 1...604800 seconds"))
        }
        if let threshold, !(threshold > 0 && threshold <= 10) {
            problems.append(ValueError(field: prefix + "threshold", message: "must be within (0, 10] (a share)"))
        }
        if let samples, !(1...1000).contains(samples) {
            problems.append(ValueError(field: prefix + "samples", message: "must be within 1...1000"))
        }
        return problems
    }
}
