import CorralClient
import CorralModel
import CorralProtocol
import Foundation
import Logging
import Placement
import Scheduler
import SchedulerService
import Store
import Synchronization
import TestSupport
import Testing

/// A load anomaly, end to end: a node's heartbeats carry a seasonal load, the forecaster selects its
/// models, then the load jumps outside the 95% interval; the rule fires once to a webhook on loopback
/// (which refuses the first POST, so the retry is exercised) and resolves once when the load is back.
@Suite(.serialized, .enabled(if: Preconditions.met(.file("/usr/bin/python3", hint: "apt-get install python3"))))
struct AnomalyAlertTests {
    @Test func anInjectedLoadAnomalyFiresOnceAndResolvesOnce() async throws {
        let missing = Preconditions.missing(.file("/usr/bin/python3", hint: "apt-get install python3"))
        try #require(missing.isEmpty, "\(missing)")
        let directory = TemporaryDirectory("corral-anomaly")
        let sink = try WebhookSink(directory: directory.path, failFirst: 1)
        defer { sink.stop() }
        let clock = Mutex(1_000_000.0)
        var configuration = SchedulerCore.Configuration(heartbeatInterval: 5)
        configuration.alerts = [AlertRule(name: "anomaly", kind: .loadAnomaly, webhook: sink.url, samples: 3)]
        let scheduler = Scheduler(
            store: try SQLiteStore(path: nil), history: nil, configuration: configuration, logger: Logger(label: "t"),
            now: { clock.withLock { $0 } })
        try await scheduler.start()
        let sender = AlertSender(
            http: SchedulerClient.plainHTTP, logger: Logger(label: "alerts"), maxQueued: 100, maxAttempts: 5)
        let node = NodeRecord(id: "n1", capacity: ResourceVector(cpuMillis: 4000, memory: 8 << 30, pids: 1000))
        _ = try await scheduler.register(node, claim: .bootstrap(credentialDigest: "d"))

        var random = SplitMix64(seed: 7)
        var sent: [AlertNotification] = []
        /// One heartbeat 5 s after the last, its cpu `cpu` or the seasonal pattern.
        func beat(_ i: Int, cpu: Double? = nil) async throws {
            clock.withLock { $0 += 5 }
            let seasonal = 0.4 + 0.15 * sin(Double(i) * 2 * .pi / 12) + 0.01 * random.normal()
            let load = NodeLoad(cpu: cpu ?? seasonal, memory: 0.3 + 0.005 * random.normal(), io: 0.02)
            _ = try await scheduler.heartbeat(node: "n1", reports: [], usage: load)
            let notes = await scheduler.evaluateAlerts()
            sent += notes.map(\.notification)
            await sender.enqueue(notes)
        }
        for i in 0..<40 { try await beat(i) }
        await scheduler.refitForecasts()
        for i in 40..<100 { try await beat(i) }
        #expect(sent.isEmpty, "no anomaly in the seasonal load: \(sent.map(\.summary))")
        for i in 100..<106 { try await beat(i, cpu: 0.98) }
        #expect(sent.map(\.status) == ["firing"], "\(sent.map(\.summary))")
        #expect(sent.first?.subject == "n1/cpu")
        #expect(sent.first?.summary.contains("outside its forecast's 95% interval for 3 samples") == true)
        let firing = await scheduler.firingAlerts
        #expect(firing.count == 1)
        for i in 106..<160 { try await beat(i) }
        #expect(sent.map(\.status) == ["firing", "resolved"], "\(sent.map(\.summary))")

        // The sink refused the first POST: the sender retries after its backoff, and each is delivered once.
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            await sender.sendDue()
            let queued = await sender.queued
            if sink.received().count >= 2 && queued == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let received = sink.received()
        #expect(received.compactMap { $0["status"] as? String } == ["firing", "resolved"], "\(received)")
        #expect(Set(received.compactMap { $0["id"] as? String }).count == 1, "one alert, its two notifications")
        let delivered = await sender.delivered
        #expect(delivered == 2)
    }
}

extension SplitMix64 {
    /// Seeded normal noise (Box-Muller), so that the series and its verdicts never change.
    mutating func normal() -> Double {
        (-2 * log(max(nextDouble(), 1e-300))).squareRoot() * cos(2 * .pi * nextDouble())
    }
}
