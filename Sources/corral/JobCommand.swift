import ArgumentParser
import CorralClient
import CorralModel
import CorralProtocol
import Foundation

/// Where the scheduler is and who we are: flags or CORRAL_ADDR / CORRAL_TOKEN.
struct ClientOptions: ParsableArguments {
    @Option(
        help: "Scheduler URL, or every scheduler's, comma-separated (default $CORRAL_ADDR or http://127.0.0.1:4646).")
    var scheduler: String?
    @Option(help: "File (mode 0600) holding the bearer token (default: $CORRAL_TOKEN).") var tokenFile: String?
    @Option(help: "CA certificate (PEM) to verify an https:// scheduler with (default: $CORRAL_CACERT).") var ca:
        String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func client() throws -> SchedulerClient {
        let environment = ProcessInfo.processInfo.environment
        let token = try TokenFile.token(tokenFile, hint: "see the scheduler's config.json")
        return try SchedulerClient(
            baseURL: scheduler ?? environment["CORRAL_ADDR"] ?? "http://127.0.0.1:4646", token: token,
            tls: ClientTLS.fromOptions(ca: ca))
    }

    func print(_ value: some Encodable) throws {
        let encoder = JSONEncoder.sorted
        encoder.outputFormatting.insert(.prettyPrinted)
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job", abstract: "Submit, inspect and cancel jobs.",
        subcommands: [
            Submit.self, Status.self, List.self, Cancel.self, Scale.self, Runs.self, Pause.self, Resume.self,
            Graph.self,
        ])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a job spec (JSON), or a workflow ({\"jobs\": [...]}), from a file or - for stdin.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The job spec file, or - for standard input.") var file: String

        func run() async throws {
            let body =
                file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            // A workflow is an object with "jobs".
            if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], object["jobs"] != nil {
                let workflow = try await options.client().submit(workflow: body)
                if options.json { return try options.print(workflow) }
                for job in workflow.jobs { Swift.print("submitted \(job.id) (\(job.name))") }
                return
            }
            let job = try await options.client().submit(body)
            if options.json { return try options.print(job) }
            Swift.print("submitted \(job.id) (\(job.name), \(job.spec.count) task\(job.spec.count == 1 ? "" : "s"))")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job and its tasks.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String

        func run() async throws {
            let client = try options.client()
            let job = try await client.job(id)
            let tasks = try await client.tasks(id)
            if options.json { return try options.print(["job": AnyEncodable(job), "tasks": AnyEncodable(tasks)]) }
            Swift.print("\(job.id)  \(job.name)  tenant \(job.tenant)  priority \(job.priority)  \(job.state)")
            if let waiting = job.waitingFor { Swift.print("waiting: \(waiting)") }
            if let schedule = job.schedule, let spec = job.spec.schedule {
                Swift.print(Runs.describe(schedule, spec))
                return
            }
            if let parent = job.scheduledBy, let fire = job.fire {
                Swift.print("run of schedule \(parent) for its fire at \(Runs.time(fire))")
            }
            var setup: [String] = []
            if let image = job.spec.image { setup.append("image \(image)") }
            if job.spec.network.mode != .none { setup.append("network \(job.spec.network.mode.rawValue)") }
            if job.spec.type == .service { setup.append("service, \(job.spec.count) wanted") }
            for volume in job.spec.volumes {
                setup.append("volume \(volume.name) at \(volume.target)\(volume.readOnly ? " (read-only)" : "")")
            }
            if !setup.isEmpty { Swift.print(setup.joined(separator: "  ")) }
            Table.print(
                ["TASK", "STATE", "ATTEMPT", "NODE", "EXIT", "ADDRESS", "HEALTH", "ERROR"],
                tasks.map {
                    [
                        "\($0.index)", $0.state.rawValue, "\($0.attempt)", $0.node?.rawValue ?? "-",
                        $0.exitCode.map { "\($0)" } ?? "-", Self.addresses($0.network), Self.health($0.health),
                        $0.lastError ?? "",
                    ]
                })
        }

        /// `healthy (restarts 2): http: HTTP 200`.
        static func health(_ health: TaskHealth?) -> String {
            guard let health else { return "-" }
            let restarts = health.restarts > 0 ? " (restarts \(health.restarts))" : ""
            return "\(health.status.rawValue)\(restarts): \(health.output)"
        }

        /// The task's bridge address and each published port as `name=node:port`.
        static func addresses(_ network: AllocationNetwork?) -> String {
            guard let network else { return "-" }
            return ([network.address].compactMap { $0 } + network.ports.map { "\($0.name)=\($0.address)" })
                .joined(separator: " ")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the jobs you may see.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let jobs = try await options.client().jobs()
            if options.json { return try options.print(jobs) }
            Table.print(
                ["ID", "NAME", "TENANT", "PRIO", "STATE", "TASKS"],
                jobs.map {
                    [
                        $0.id.rawValue, $0.name, $0.tenant, "\($0.priority)", $0.state.rawValue,
                        $0.tasks.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                    ]
                })
        }
    }

    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a service job's count: new tasks are placed, those past the count stopped.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Argument(help: "The new number of tasks (1-100000).") var count: Int

        func run() async throws {
            let job = try await options.client().scale(id, count: count)
            if options.json { return try options.print(job) }
            Swift.print("\(job.id) scaled to \(job.spec.count)")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a job: queued tasks end, placed ones are killed.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String

        func run() async throws {
            let job = try await options.client().cancel(id)
            if options.json { return try options.print(job) }
            Swift.print("\(job.id) \(job.state)")
        }
    }
}

struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "List the cluster's nodes.")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let nodes = try await options.client().nodes()
        if options.json { return try options.print(nodes) }
        Table.print(
            ["NODE", "READY", "CPU", "MEMORY", "RUNNING", "BREAKER", "DRAIN", "LABELS"],
            nodes.map {
                [
                    $0.id.rawValue, $0.ready ? "yes" : "no",
                    "\(Double($0.reserved.cpuMillis) / 1000)/\(Double($0.capacity.cpuMillis) / 1000)",
                    "\($0.reserved.memory >> 20)/\($0.capacity.memory >> 20) MiB", "\($0.running)",
                    ($0.breaker ?? "closed")
                        + ($0.breaker != "closed" ? ($0.breakerReason.map { ": \($0)" } ?? "") : ""),
                    Self.drainText($0),
                    $0.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                ]
            })
    }
}

extension NodesCommand {
    /// `no`, `draining (deadline 14:05:00 UTC)`, `draining (no deadline)` or `drained`.
    static func drainText(_ node: NodeStatus) -> String {
        guard let drain = node.drain else { return "no" }
        if node.drained == true { return "drained" }
        guard let deadline = drain.deadline else { return "draining (no deadline)" }
        let format = DateFormatter()
        format.dateFormat = "HH:mm:ss 'UTC'"
        format.timeZone = TimeZone(identifier: "UTC")
        return "draining (deadline \(format.string(from: Date(timeIntervalSince1970: deadline))))"
    }
}

struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// A plain aligned table for terminals.
enum Table {
    static func print(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            Swift.print(
                row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
