import ArgumentParser
import CorralClient
import CorralModel
import CorralProtocol
import Foundation

extension JobCommand {
    struct Graph: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the job graph a job is part of: each job with its state, and what it waits for.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String

        func run() async throws {
            let graph = try await options.client().graph(id)
            if options.json { return try options.print(graph) }
            Swift.print(Self.render(graph))
        }

        /// One line per job in dependency order (upstream first), each with its state and its edges:
        /// `D  jmx...  waiting  <- B (success), C (success)`.
        static func render(_ graph: JobGraphView) -> String {
            let names = Dictionary(graph.jobs.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            let upstream = Dictionary(grouping: graph.edges, by: \.to)
            var depth: [JobID: Int] = [:]
            func level(_ id: JobID, _ seen: Set<JobID> = []) -> Int {
                if let known = depth[id] { return known }
                let value =
                    (upstream[id] ?? []).filter { !seen.contains($0.from) }.map {
                        level($0.from, seen.union([id])) + 1
                    }.max() ?? 0
                depth[id] = value
                return value
            }
            let ordered = graph.jobs.sorted { (level($0.id), $0.submittedAt) < (level($1.id), $1.submittedAt) }
            var lines: [String] = []
            for job in ordered {
                let indent = String(repeating: "  ", count: level(job.id))
                let edges = (upstream[job.id] ?? []).map { "\(names[$0.from] ?? $0.from.rawValue) (\($0.on.rawValue))" }
                var line = "\(indent)\(job.name)  \(job.id)  \(job.state.rawValue)"
                if !edges.isEmpty { line += "  <- " + edges.joined(separator: ", ") }
                if let why = job.skipped ?? job.waitingFor { line += "\n\(indent)    \(why)" }
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        }
    }
}
