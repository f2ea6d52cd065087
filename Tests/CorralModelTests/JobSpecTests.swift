import CorralModel
import Foundation
import Testing

@Suite struct JobSpecTests {
    func parse(_ json: String) throws(JobSpecError) -> JobSpec {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) } catch {
            Issue.record("test JSON does not parse: \(error)")
            throw JobSpecError(problems: [])
        }
        return try JobSpec.parse(value)
    }

    func problems(_ json: String) -> [String] {
        do {
            _ = try parse(json)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func humanUnitsAndNumbersAreBothAccepted() throws {
        let spec = try parse(
            """
            {"name": "render", "tenant": "acme", "priority": 70, "command": ["/bin/sh", "-c", "echo hi"],
             "env": {"MODE": "fast"}, "image": "busybox",
             "resources": {"cpu": "1.5", "memory": "512Mi", "ioWriteBps": 1048576, "pids": 64},
             "count": 3, "timeout": "1m30s",
             "retry": {"maxAttempts": 5, "initialDelay": "500ms", "maxDelay": 30, "jitter": 0.1},
             "expectedDuration": "5m", "constraints": {"zone": "a"}}
            """)
        #expect(spec.name == "render" && spec.tenant == "acme" && spec.priority == 70)
        #expect(spec.command == ["/bin/sh", "-c", "echo hi"] && spec.environment == ["MODE": "fast"])
        #expect(spec.resources == Resources(cpu: 1.5, memory: 512 << 20, ioWriteBps: 1 << 20, pids: 64))
        #expect(spec.count == 3 && spec.timeout == .seconds(90) && spec.expectedDuration == .seconds(300))
        #expect(
            spec.retry
                == RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(500), maxDelay: .seconds(30), jitter: 0.1))
        #expect(spec.constraints == ["zone": "a"] && spec.image == "busybox")
        let cpuInMillicores = try parse(
            #"{"name": "a", "tenant": "t", "command": ["x"], "resources": {"cpu": "250m"}}"#)
        #expect(cpuInMillicores.resources.cpu == 0.25)
    }

    @Test func defaultsApplyToOmittedFields() throws {
        let spec = try parse(#"{"name": "a", "tenant": "t", "command": ["/bin/true"]}"#)
        #expect(spec.priority == 50 && spec.count == 1 && spec.timeout == nil)
        #expect(spec.resources == Resources())
        #expect(spec.retry.maxAttempts == 3)
    }

    @Test func everyProblemIsReportedWithItsJSONPath() {
        let found = problems(
            """
            {"name": "bad name", "priority": 101, "command": [],
             "resources": {"memory": "12XB", "cpu": -1, "gpu": 1},
             "count": 0, "timeout": "soon", "retry": {"jitter": 2, "maxAttempts": 0}, "colour": "red"}
            """)
        let expected = [
            "colour: unknown field", "name: \"bad name\" must be", "tenant: is required",
            "priority: 101 is not a whole number",
            "command: must name a program first", "resources.gpu: unknown field",
            "resources.cpu: \"-1\" is not a CPU amount",
            "resources.memory: \"12XB\" is not a size", "count: 0 is not a whole number",
            "timeout: \"soon\" is not a duration",
            "retry.maxAttempts: 0 is not", "retry.jitter: 2.0 is not within 0...1",
        ]
        for message in expected {
            #expect(found.contains { $0.hasPrefix(message) }, "missing \(message) in \(found)")
        }
        #expect(found.count == expected.count, "\(found)")
    }

    @Test func wrongTypesAreNamed() {
        let found = problems(#"{"name": 5, "tenant": "t", "command": "ls", "env": {"A": 1}, "resources": []}"#)
        #expect(found.contains("name: must be a string, not 5"))
        #expect(found.contains("command: must be an array of strings, not \"ls\""))
        #expect(found.contains("env.A: must be a string, not 1"))
        #expect(found.contains("resources: must be an object, not an array"))
    }

    @Test func aJobCannotRequestUnlimitedMemory() {
        #expect(
            problems(#"{"name": "a", "tenant": "t", "command": ["x"], "resources": {"memory": "max"}}"#)
                == ["resources.memory: \"max\" is not a limit a task can request"])
    }

    @Test func retryDelaysGrowExponentiallyUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 6, initialDelay: .seconds(1), maxDelay: .seconds(10), jitter: 0.5)
        #expect(policy.delay(beforeAttempt: 2, random: 0) == .seconds(1))
        #expect(policy.delay(beforeAttempt: 3, random: 0) == .seconds(2))
        #expect(policy.delay(beforeAttempt: 4, random: 0) == .seconds(4))
        #expect(policy.delay(beforeAttempt: 6, random: 0) == .seconds(10), "capped")
        #expect(policy.delay(beforeAttempt: 3, random: 1) == .seconds(3), "jitter adds up to half")
        #expect(policy.delay(beforeAttempt: 200, random: 0) == .seconds(10), "no overflow on many attempts")
    }
}
