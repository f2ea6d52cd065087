import ArgumentParser
import Foundation
import Sandbox

struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "Show what this host offers: cgroup mode, controllers, kernel features.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let report = HostReport.probe()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}
