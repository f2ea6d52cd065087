import CorralModel
import CorralProtocol
import Testing

@testable import Agent

/// The agent's relief under pressure, as a value: reclaimable tasks yield first, the newest is evicted
/// only after the pressure lasted, one at a time, and they stop yielding once it is calm again.
@Suite struct PressureReliefTests {
    static func id(_ n: Int) -> AllocationID { AllocationID(task: TaskID(job: JobID("j\(n)"), index: 0), attempt: 1) }
    static let tasks = [
        PressureRelief.Candidate(id: id(1), started: 100), PressureRelief.Candidate(id: id(2), started: 300),
        PressureRelief.Candidate(id: id(3), started: 200),
    ]

    @Test func theyYieldFirstThenTheNewestIsEvictedOneAtATime() {
        var relief = PressureRelief(settings: .init(threshold: 0.25, evictAfter: 10, restoreAfter: 30))
        #expect(relief.observe(pressure: 0.1, at: 0, reclaimable: Self.tasks).isEmpty, "calm: nothing")
        let first = relief.observe(pressure: 0.4, at: 1, reclaimable: Self.tasks)
        #expect(first == Self.tasks.map { .yield($0.id) }, "every reclaimable task yields at once")
        // Still pressed (a dip above half the threshold does not end it), but not for 10 s yet.
        #expect(relief.observe(pressure: 0.15, at: 6, reclaimable: Self.tasks).isEmpty)
        let evict = relief.observe(pressure: 0.5, at: 11, reclaimable: Self.tasks)
        guard case .evict(let victim, let reason)? = evict.first, evict.count == 1 else {
            Issue.record("expected one eviction, got \(evict)")
            return
        }
        #expect(victim == Self.id(2), "the newest (started last) goes first")
        #expect(reason.hasPrefix("evicted: node pressure"))
        let left = Self.tasks.filter { $0.id != victim }
        #expect(relief.observe(pressure: 0.5, at: 15, reclaimable: left).isEmpty, "the next waits 10 s more")
        #expect(
            relief.observe(pressure: 0.5, at: 21, reclaimable: left) == [
                .evict(Self.id(3), reason: "evicted: node pressure (50% of time stalled)")
            ])
    }

    @Test func theyStopYieldingOnlyAfterACalmSpell() {
        var relief = PressureRelief(settings: .init(threshold: 0.25, evictAfter: 10, restoreAfter: 30))
        _ = relief.observe(pressure: 0.3, at: 0, reclaimable: Self.tasks)
        #expect(relief.observe(pressure: 0.05, at: 5, reclaimable: Self.tasks).isEmpty, "calm, not for long")
        #expect(relief.observe(pressure: 0.05, at: 20, reclaimable: Self.tasks).isEmpty)
        let restored = relief.observe(pressure: 0.05, at: 35, reclaimable: Self.tasks)
        #expect(Set(restored) == Set(Self.tasks.map { .restore($0.id) }))
        #expect(relief.yielding.isEmpty)
        // A new episode starts the wait for an eviction from its own beginning.
        _ = relief.observe(pressure: 0.3, at: 40, reclaimable: Self.tasks)
        #expect(relief.observe(pressure: 0.3, at: 45, reclaimable: Self.tasks).isEmpty)
    }

    @Test func withoutReclaimableTasksNothingIsDone() {
        var relief = PressureRelief(settings: .init())
        for t in 0..<100 { #expect(relief.observe(pressure: 1, at: Double(t), reclaimable: []).isEmpty) }
    }
}
