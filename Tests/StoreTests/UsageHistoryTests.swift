import Store
import Testing

@Suite struct UsageHistoryTests {
    @Test func samplesAreFoldedIntoMinuteAndHourMeans() async throws {
        let history = try UsageHistory(path: nil)
        // Two minutes of 10-second samples: cpu 0.2 in the first minute, 0.6 in the second.
        let samples = (0..<12).map { i in
            UsageHistory.Sample(time: 3600 + Double(i) * 10, cpu: i < 6 ? 0.2 : 0.6, memory: 0.5, io: 0)
        }
        try await history.record(node: "n1", samples)
        let raw = try await history.samples(node: "n1", since: 0, resolution: .raw)
        #expect(raw.count == 12)
        let minutes = try await history.samples(node: "n1", since: 0, resolution: .minute)
        #expect(minutes.map(\.time) == [3600, 3660])
        #expect(abs(minutes[0].cpu - 0.2) < 1e-12 && abs(minutes[1].cpu - 0.6) < 1e-12)
        let hours = try await history.samples(node: "n1", since: 0, resolution: .hour)
        #expect(hours.count == 1)
        #expect(abs(hours[0].cpu - 0.4) < 1e-12)
        #expect(try await history.samples(node: "other", since: 0, resolution: .raw).isEmpty)
    }

    @Test func pruningKeepsEachResolutionForItsRetention() async throws {
        let history = try UsageHistory(path: nil)
        let day = 86_400.0
        let now = 400 * day
        try await history.record(
            node: "n", [2, 10, 100, 370].map { UsageHistory.Sample(time: now - $0 * day, cpu: 1, memory: 1, io: 1) })
        try await history.prune(now: now)
        #expect(try await history.samples(node: "n", since: 0, resolution: .raw).isEmpty)
        #expect(try await history.samples(node: "n", since: 0, resolution: .minute).count == 2)
        #expect(try await history.samples(node: "n", since: 0, resolution: .hour).count == 3)
    }
}
