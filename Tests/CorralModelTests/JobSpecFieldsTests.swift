import CorralModel
import Foundation
import Testing

/// The job spec fields of issue 21: each problem names its field, and a valid spec reads back as written.
@Suite struct JobSpecFieldsTests {
    let spec = JobSpecTests()

    @Test func networkVolumesServiceAndImageReadBackAsWritten() throws {
        let parsed = try spec.parse(
            """
            {"name": "web", "tenant": "acme", "command": ["sh"], "image": "busybox:1.36", "type": "service",
             "network": {"mode": "bridge", "ports": [{"name": "http", "to": 8080}]},
             "volumes": [{"name": "data", "target": "/data", "readOnly": true}],
             "resources": {"disk": "1Gi"},
             "restart": {"attempts": 5, "interval": "10m", "delay": "1s", "mode": "delay"},
             "checks": [{"type": "http", "port": "http", "path": "/health", "unhealthyAfter": 2, "grace": "30s"},
                        {"type": "exec", "command": ["test", "-f", "/work/ready"], "timeout": "2s"}]}
            """)
        #expect(parsed.network == TaskNetwork(mode: .bridge, ports: [.init(name: "http", to: 8080)]))
        #expect(parsed.volumes == [VolumeMount(name: "data", target: "/data", readOnly: true)])
        #expect(parsed.resources.disk == 1 << 30)
        #expect(parsed.restart == RestartPolicy(attempts: 5, interval: .seconds(600), delay: .seconds(1), mode: .delay))
        #expect(parsed.checks.first?.grace == .seconds(30))
        #expect(
            parsed.checks.last
                == HealthCheck(type: .exec, command: ["test", "-f", "/work/ready"], timeout: .seconds(2)))
        #expect(parsed.placementConstraints["corral.volume.data"] == "yes")
        #expect(parsed.placementConstraints["corral.image.busybox:1.36"] == "yes")
        #expect(try JobSpec.parse(parsed.json) == parsed)
    }

    @Test func aReclaimableJobReadsBackAsWritten() throws {
        let parsed = try spec.parse(#"{"name": "b", "tenant": "acme", "command": ["sh"], "reclaimable": true}"#)
        #expect(parsed.reclaimable)
        #expect(try JobSpec.parse(parsed.json) == parsed)
        #expect(try !spec.parse(#"{"name": "b", "tenant": "acme", "command": ["sh"]}"#).reclaimable)
    }

    @Test func aScheduleReadsBackAsWrittenWithItsDefaults() throws {
        let parsed = try spec.parse(
            """
            {"name": "nightly", "tenant": "acme", "command": ["sh"],
             "schedule": {"cron": "0 */5 * * * *", "timeZone": "Europe/Berlin", "overlap": "forbid",
                          "catchUp": "one", "startingDeadline": "5m"}}
            """)
        let schedule = try #require(parsed.schedule)
        #expect(schedule.cron.source == "0 */5 * * * *")
        #expect(schedule.timeZone == "Europe/Berlin")
        #expect(schedule.overlap == .forbid && schedule.catchUp == .one)
        #expect(schedule.startingDeadline == .seconds(300))
        #expect(schedule.keepRuns == 20)
        #expect(try JobSpec.parse(parsed.json) == parsed)
        let plain = try spec.parse(
            #"{"name": "h", "tenant": "acme", "command": ["sh"], "schedule": {"cron": "@hourly"}}"#)
        #expect(plain.schedule?.timeZone == "UTC")
        #expect(plain.schedule?.overlap == .allow)
        #expect(plain.schedule?.catchUp == JobSchedule.CatchUp.none)
        let long = String(repeating: "n", count: JobSchedule.nameLimit + 1)
        let problems = spec.problems(
            #"{"name": ""# + long + #"", "tenant": "t", "command": ["sh"], "schedule": {"cron": "@daily"}}"#)
        #expect(problems.contains { $0.hasPrefix("name:") }, "its runs' names would be too long: \(problems)")
    }

    @Test(
        "each bad field is named",
        arguments: [
            (#""network": {"mode": "wifi"}"#, "network.mode"),
            (#""network": {"mode": "host", "ports": [{"name": "http", "to": 80}]}"#, "network.ports"),
            (#""network": {"mode": "bridge", "ports": [{"name": "HTTP", "to": 80}]}"#, "network.ports[0].name"),
            (#""network": {"mode": "bridge", "ports": [{"name": "a", "to": 70000}]}"#, "network.ports[0].to"),
            (#""volumes": [{"name": "d", "target": "/proc/x"}]"#, "volumes[0].target"),
            (#""volumes": [{"name": "d", "target": "/a/../b"}]"#, "volumes[0].target"),
            (#""image": "a:b:c""#, "image"),
            (#""type": "daemon""#, "type"),
            (#""type": "service", "checks": [{"type": "exec"}]"#, "checks[0].command"),
            (#""type": "service", "checks": [{"type": "exec", "command": [""]}]"#, "checks[0].command"),
            (
                #""network": {"mode": "bridge", "ports": [{"name": "h", "to": 80}]}, "checks": [{"type": "tcp", "port": "h", "command": ["x"]}]"#,
                "checks[0].command"
            ),
            (#""checks": [{"type": "exec", "command": ["x"], "timeout": "0s"}]"#, "checks[0].timeout"),
            (#""type": "service", "checks": [{"type": "http"}]"#, "checks[0].port"),
            (#""checks": [{"type": "tcp", "port": "x"}]"#, "checks[0].port"),
            (#""resources": {"disk": "1Ki"}"#, "resources.disk"),
            (#""schedule": {"timeZone": "UTC"}"#, "schedule.cron"),
            (#""schedule": {"cron": "61 * * * *"}"#, "schedule.cron minutes"),
            (#""schedule": {"cron": "@often"}"#, "schedule.cron"),
            (#""schedule": {"cron": "@daily", "overlap": "queue"}"#, "schedule.overlap"),
            (#""schedule": {"cron": "@daily", "catchUp": "all"}"#, "schedule.catchUp"),
            (#""schedule": {"cron": "@daily", "timeZone": "../etc/passwd"}"#, "schedule.timeZone"),
            (#""schedule": {"cron": "@daily", "startingDeadline": "0s"}"#, "schedule.startingDeadline"),
            (#""schedule": {"cron": "@daily", "keepRuns": 0}"#, "schedule.keepRuns"),
            (#""schedule": {"cron": "@daily", "every": "1h"}"#, "schedule.every"),
            (#""type": "service", "schedule": {"cron": "@daily"}"#, "schedule"),
            (#""reclaimable": "yes""#, "reclaimable"),
            (#""type": "service", "reclaimable": true"#, "reclaimable"),
            (#""placement": {"mode": "each-node"}, "reclaimable": true"#, "reclaimable"),
            (#""volumes": [{"name": "d", "target": "/d", "readOnly": 1}]"#, "volumes[0].readOnly"),
        ])
    func badField(_ field: String, _ name: String) {
        let problems = spec.problems(#"{"name": "j", "tenant": "t", "command": ["sh"], "# + field + "}")
        #expect(problems.contains { $0.hasPrefix(name + ":") }, "\(problems)")
    }
}

/// Workflows as submitted: each problem names the job and the edge.
@Suite struct WorkflowParsingTests {
    func problems(_ json: String) -> [String] {
        do {
            _ = try Workflow.parse(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))
            return []
        } catch let error as JobSpecError {
            return error.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    static func job(_ name: String, _ after: String...) -> String {
        let edges = after.map { #"{"job": ""# + $0 + #""}"# }.joined(separator: ", ")
        return #"{"name": ""# + name + #"", "tenant": "t", "command": ["sh"], "dependsOn": ["# + edges + "]}"
    }

    @Test func aCycleIsRefusedNamingTheEdgeThatClosesIt() {
        let found = problems(
            #"{"jobs": ["# + [Self.job("a", "c"), Self.job("b", "a"), Self.job("c", "b")].joined(separator: ", ") + "]}"
        )
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("jobs[") == true && found.first?.contains(".dependsOn[0]:") == true, "\(found)")
        #expect(found.first?.contains("a -> c -> b -> a") == true || found.first?.contains("cycle") == true, "\(found)")
        #expect(problems(#"{"jobs": ["# + Self.job("self", "self") + "]}").first?.contains("cycle") == true)
    }

    @Test func aDiamondIsAcceptedAndBadJobsAreNamedByIndex() {
        let diamond = [Self.job("a"), Self.job("b", "a"), Self.job("c", "a"), Self.job("d", "b", "c")]
        #expect(problems(#"{"jobs": ["# + diamond.joined(separator: ", ") + "]}").isEmpty)
        let twice = problems(#"{"jobs": ["# + [Self.job("a"), Self.job("a")].joined(separator: ", ") + "]}")
        #expect(twice.contains { $0.hasPrefix("jobs[1].name:") }, "\(twice)")
        let bad = problems(#"{"jobs": [{"name": "a", "tenant": "t"}]}"#)
        #expect(bad.contains { $0.hasPrefix("jobs[0].command:") }, "\(bad)")
        #expect(problems(#"{"jobs": []}"#).contains { $0.hasPrefix("jobs:") })
        let edge = problems(
            #"{"jobs": [{"name": "a", "tenant": "t", "command": ["sh"], "dependsOn": [{"job": "b", "on": "maybe"}]}]}"#)
        #expect(edge.contains { $0.hasPrefix("jobs[0].dependsOn[0].on:") }, "\(edge)")
    }
}
