import Testing

@testable import Scheduler

/// The timing wheel against a plain list of deadlines: every entry fires exactly once, at the advance that
/// passes its time, in time order, across every level, the overflow and long jumps.
@Suite struct TimingWheelTests {
    /// A small seeded generator, so that a failure repeats.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func everyEntryFiresOnceAtTheAdvanceThatPassesItsTime(seed: UInt64) {
        var random = Generator(state: seed)
        let start: Int64 = 1_796_378_405
        var wheel = TimingWheel<Int>(now: start)
        var model: [Int: Int64] = [:]
        // Spans that land on each level and past the last one (194 days) into the overflow.
        let spans: [Int64] = [10, 60, 4000, 300_000, 20_000_000, 40_000_000]
        for id in 0..<2000 {
            let at = start + Int64.random(in: -5...spans.randomElement(using: &random)!, using: &random)
            wheel.schedule(id, at: at)
            model[id] = at
        }
        // Some are moved, some removed.
        for id in stride(from: 0, to: 2000, by: 7) {
            let at = start + Int64.random(in: 0...100_000, using: &random)
            wheel.schedule(id, at: at)
            model[id] = at
        }
        for id in stride(from: 3, to: 2000, by: 11) {
            wheel.remove(id)
            model[id] = nil
        }
        #expect(wheel.count == model.count)

        var now = start
        var fired: [Int: Int64] = [:]
        while now < start + 41_000_000 {
            // Mostly small steps, now and then a long one (a scheduler that was down).
            let step: Int64 =
                Int.random(in: 0..<50, using: &random) == 0 ? 5_000_000 : Int64.random(in: 1...3000, using: &random)
            let before = now
            now += step
            let batch = wheel.advance(to: now)
            #expect(batch.map(\.at) == batch.map(\.at).sorted(), "in time order")
            for (id, at) in batch {
                #expect(fired[id] == nil, "entry \(id) fired twice")
                #expect(model[id] == at, "entry \(id) fired for \(at), due \(String(describing: model[id]))")
                #expect(
                    at <= now && (at > before || at <= start), "entry \(id) due \(at) fired late, by \(before)..\(now)")
                fired[id] = at
            }
            // Churn while it runs, as schedules paused, resumed and moved do: pending entries moved to new
            // times (often more than once, leaving pairs behind) or removed, and new ones added.
            // (Not near the end: every entry must fall due before the last advance.)
            for _ in 0..<(now < start + 40_000_000 ? Int.random(in: 0...20, using: &random) : 0) {
                let id = Int.random(in: 0..<3000, using: &random)
                guard fired[id] == nil else { continue }
                if Bool.random(using: &random) {
                    let at = now + Int64.random(in: 1...300_000, using: &random)
                    wheel.schedule(id, at: at)
                    model[id] = at
                } else {
                    wheel.remove(id)
                    model[id] = nil
                }
            }
            #expect(wheel.count == model.count - fired.count)
        }
        #expect(fired == model, "\(model.count - fired.count) entries never fired")
        #expect(wheel.count == 0)
    }

    @Test func anEntryDueAlreadyFiresAtTheNextAdvanceAndNothingFiresEarly() {
        var wheel = TimingWheel<String>(now: 1000)
        wheel.schedule("late", at: 900)
        wheel.schedule("soon", at: 1002)
        #expect(wheel.advance(to: 1001).map(\.id) == ["late"])
        #expect(wheel.advance(to: 1001).isEmpty)
        #expect(wheel.advance(to: 1002).map(\.id) == ["soon"])
        wheel.schedule("gone", at: 1010)
        wheel.remove("gone")
        #expect(wheel.advance(to: 2000).isEmpty)
    }
}
