import CorralModel
import Placement
import Scheduler

/// `corral bench schedules`: the scheduler's cost of holding many cron schedules. `schedules` schedules
/// (`daily` at random times, or `mixed`: every 5 minutes, hourly or daily) are simulated over `seconds`
/// one-second ticks:
/// each tick takes the due ones off the timing wheel, computes each one's next fire from its cron
/// expression and puts it back. The peer in the same run is a scan of every schedule's next fire on each
/// tick (what the wheel avoids); both must fire the same schedules at the same seconds, and the ratio of
/// their times per tick is the figure to compare.
public struct ScheduleBenchmark: Sendable {
    public enum Mix: String, Sendable, Encodable, CaseIterable {
        /// Every schedule daily: fires are rare, the cost is holding them.
        case daily
        /// A third every 5 minutes, a third hourly, a third daily: the cost is mostly firing.
        case mixed
    }

    public var schedules: Int
    public var seconds: Int
    public var mix: Mix
    public var seed: UInt64

    public init(schedules: Int, seconds: Int, mix: Mix, seed: UInt64 = 42) {
        self.mix = mix
        self.schedules = schedules
        self.seconds = seconds
        self.seed = seed
    }

    public struct Report: Sendable, Encodable {
        public var mix: Mix
        public var schedules: Int
        public var seconds: Int
        public var fires: Int
        /// Microseconds per one-second tick, fires included.
        public var wheelTickUs: Double
        public var scanTickUs: Double
        /// Fires per second of CPU time through the wheel, the cron computation included.
        public var wheelFiresPerSecond: Double
        public var speedupOverScan: Double
        public var agreed: Bool
    }

    public func run() throws -> Report {
        var random = SplitMix64(seed: seed)
        let utc: CronExpression.Offsets = { _ in 0 }
        var expressions: [CronExpression] = []
        for _ in 0..<schedules {
            let second = Int(random.next() % 60)
            let minute = Int(random.next() % 60)
            let hour = Int(random.next() % 24)
            let text: String =
                switch mix == .daily ? 2 : random.next() % 3 {
                case 0: "\(second) */5 * * * *"
                case 1: "\(second) \(minute) * * * *"
                default: "\(second) \(minute) \(hour) * * *"
                }
            expressions.append(try CronExpression(text))
        }
        let start: Int64 = 1_800_000_000
        let firsts = expressions.map { $0.next(after: start, offsets: utc) ?? .max }

        var wheel = TimingWheel<Int>(now: start)
        for (index, time) in firsts.enumerated() { wheel.schedule(index, at: time) }
        var wheelFired: [Int64: Int] = [:]
        var fires = 0
        let wheelTime = measure {
            for tick in 1...Int64(seconds) {
                for (index, at) in wheel.advance(to: start + tick) {
                    wheelFired[at, default: 0] &+= index
                    fires += 1
                    if let next = expressions[index].next(after: at, offsets: utc) { wheel.schedule(index, at: next) }
                }
            }
        }

        var next = firsts
        var scanFired: [Int64: Int] = [:]
        let scanTime = measure {
            for tick in 1...Int64(seconds) {
                let now = start + tick
                for index in next.indices where next[index] <= now {
                    scanFired[next[index], default: 0] &+= index
                    next[index] = expressions[index].next(after: next[index], offsets: utc) ?? .max
                }
            }
        }
        let wheelSeconds = wheelTime.inSeconds
        let scanSeconds = scanTime.inSeconds
        return Report(
            mix: mix, schedules: schedules, seconds: seconds, fires: fires,
            wheelTickUs: wheelSeconds / Double(seconds) * 1e6, scanTickUs: scanSeconds / Double(seconds) * 1e6,
            wheelFiresPerSecond: Double(fires) / max(wheelSeconds, 1e-9),
            speedupOverScan: scanSeconds / max(wheelSeconds, 1e-9), agreed: wheelFired == scanFired)
    }
}
