import ArgumentParser
import CorralClient
import CorralModel
import CorralProtocol
import Foundation

extension JobCommand {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a schedule's runs, oldest fire first.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String

        func run() async throws {
            let client = try options.client()
            let schedule = try await client.job(id)
            let runs = try await client.runs(id)
            if options.json { return try options.print(runs) }
            if let view = schedule.schedule, let spec = schedule.spec.schedule {
                Swift.print(Self.describe(view, spec))
            }
            Table.print(
                ["RUN", "FIRE", "STATE", "TASKS"],
                runs.map {
                    [
                        $0.id.rawValue, $0.fire.map(Self.time) ?? "-", $0.state.rawValue,
                        $0.tasks.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                    ]
                })
        }

        /// `cron */5 * * * * (Europe/Berlin), next 2026-12-04T10:00:00Z; fired 12, skipped 1, missed 0`.
        static func describe(_ view: ScheduleView, _ spec: JobSchedule) -> String {
            var lines = [
                "cron \(spec.cron) (\(spec.timeZone)), overlap \(spec.overlap.rawValue), catchUp \(spec.catchUp.rawValue)"
                    + (view.paused ? ", paused" : view.nextFire.map { ", next \(time($0))" } ?? ", fires no more"),
                "fired \(view.fired), skipped \(view.skipped), missed \(view.missed)"
                    + (view.active.isEmpty ? "" : "; running: \(view.active.map(\.rawValue).joined(separator: " "))"),
            ]
            if let skip = view.lastSkip { lines.append("last not run: \(skip)") }
            return lines.joined(separator: "\n")
        }

        static func time(_ unix: Int64) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(unix)))
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a schedule: it fires no more until resumed.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String

        func run() async throws {
            let job = try await options.client().pause(id, true)
            if options.json { return try options.print(job) }
            Swift.print("\(job.id) \(job.state)")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a paused schedule from its next fire time after now (the fires it missed do not run).")
        @OptionGroup var options: ClientOptions
        @Argument var id: String

        func run() async throws {
            let job = try await options.client().pause(id, false)
            if options.json { return try options.print(job) }
            Swift.print("\(job.id) \(job.state)")
        }
    }
}
