import AsyncHTTPClient
import CorralProtocol
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends alert notifications to their webhooks (JSON POST), each until a 2xx answer, retried with
/// exponential backoff (1 s doubling to 60 s, for up to `maxAttempts`). Each notification is sent once
/// when its webhook answers; the queue is bounded, the oldest dropped first (and counted) when a dead
/// webhook lets it fill.
public actor AlertSender {
    struct Item {
        var webhook: String
        var notification: AlertNotification
        var attempts = 0
        var notBefore: ContinuousClock.Instant
    }

    let http: HTTPClient
    let logger: Logger
    let maxQueued: Int
    let maxAttempts: Int
    var queue: [Item] = []
    public private(set) var delivered = 0
    public private(set) var failed = 0
    public private(set) var dropped = 0

    /// With the process's plain client (system roots for https, no redirects).
    public init(logger: Logger) throws { self.init(http: try ProcessClients.client(ca: nil), logger: logger) }

    public init(http: HTTPClient, logger: Logger, maxQueued: Int = 1000, maxAttempts: Int = 10) {
        self.http = http
        self.logger = logger
        self.maxQueued = maxQueued
        self.maxAttempts = maxAttempts
    }

    public func enqueue(_ notifications: [(webhook: String, notification: AlertNotification)]) {
        for (webhook, notification) in notifications {
            queue.append(Item(webhook: webhook, notification: notification, notBefore: .now))
            logger.notice(
                "alert \(notification.status)",
                metadata: ["rule": "\(notification.rule)", "subject": "\(notification.subject)"])
        }
        if queue.count > maxQueued {
            let excess = queue.count - maxQueued
            dropped += excess
            logger.error("alert queue full: dropped the oldest notifications", metadata: ["dropped": "\(excess)"])
            queue.removeFirst(excess)
        }
    }

    public var queued: Int { queue.count }

    /// Sends what is due, all at once; keeps what failed for its next attempt. The notifications of one
    /// alert go in order: one waits while an earlier one of the same alert waits for its retry, so that
    /// a receiver never sees `resolved` before `firing`.
    public func sendDue() async {
        let now = ContinuousClock.now
        var first = Set<String>()
        var due: [Item] = []
        var kept: [Item] = []
        for item in queue {
            if first.insert(item.notification.id).inserted, item.notBefore <= now {
                due.append(item)
            } else {
                kept.append(item)
            }
        }
        guard !due.isEmpty else { return }
        queue = kept
        let results = await withTaskGroup(of: (Item, String?).self) { group in
            for item in due {
                group.addTask { [http] in (item, await Self.post(item, http: http)) }
            }
            var results: [(Item, String?)] = []
            for await result in group { results.append(result) }
            return results
        }
        for (item, error) in results {
            guard let error else {
                delivered += 1
                continue
            }
            var retry = item
            retry.attempts += 1
            guard retry.attempts < maxAttempts else {
                failed += 1
                logger.error(
                    "alert not delivered: giving up",
                    metadata: ["id": "\(item.notification.id)", "webhook": "\(item.webhook)", "error": "\(error)"])
                continue
            }
            let delay = min(60.0, pow(2, Double(retry.attempts - 1)))
            retry.notBefore = .now + .milliseconds(Int64(delay * 1000))
            logger.warning(
                "alert not delivered: will retry",
                metadata: ["id": "\(item.notification.id)", "in": "\(delay) s", "error": "\(error)"])
            // Back in front of what came after it.
            queue.insert(retry, at: 0)
        }
    }

    /// Nil when the webhook answered 2xx, else why not.
    static func post(_ item: Item, http: HTTPClient) async -> String? {
        do {
            var request = HTTPClientRequest(url: item.webhook)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "corral-alerts")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.api.encode(item.notification)))
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 << 10)
            return (200..<300).contains(response.status.code) ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }
}
