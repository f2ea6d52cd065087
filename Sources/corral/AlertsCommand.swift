import ArgumentParser
import CorralClient
import CorralProtocol
import Foundation

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "List the alerts firing now (admin).",
        discussion: "Rules and their webhooks are in the scheduler's configuration (docs/monitoring.md).")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let alerts = try await options.client().alerts()
        if options.json { return try options.print(alerts) }
        guard !alerts.isEmpty else { return print("no alerts firing") }
        let format = DateFormatter()
        format.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        format.timeZone = TimeZone(identifier: "UTC")
        Table.print(
            ["RULE", "SUBJECT", "SINCE", "SUMMARY"],
            alerts.map {
                [$0.rule, $0.subject, format.string(from: Date(timeIntervalSince1970: $0.startsAt)), $0.summary]
            })
    }
}
