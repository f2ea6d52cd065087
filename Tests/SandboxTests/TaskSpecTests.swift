import Cgroups
import CorralModel
import Sandbox
import Testing

@Suite struct TaskSpecValidationTests {
    @Test func everyProblemIsReportedWithItsField() {
        var spec = TaskSpec(id: "bad/id", argv: [])
        spec.environment = ["A=B": "x"]
        spec.limits.memoryMax = 1000
        spec.limits.pidsMax = 1
        spec.timeout = .zero
        let fields = spec.validate().map(\.field)
        #expect(fields == ["id", "argv", "environment", "timeout", "limits.memory", "limits.pids"])
    }

    @Test func aRequestReportsAllUnitErrorsAtOnce() {
        var request = ExecRequest(command: ["--", "/bin/true"])
        request.memory = "12XB"
        request.cpu = "lots"
        request.timeout = "soon"
        request.network = "bridge"
        request.ioWriteBps = ["/dev/null=1M"]
        request.environment = ["NOEQUALS"]
        do {
            _ = try request.taskSpec()
            Issue.record("invalid request accepted")
        } catch {
            #expect(error.code == .invalidSpec)
            for part in [
                "cpu: \"lots\"", "memory: \"12XB\" is not a size", "timeout: \"soon\"", "net: \"bridge\"",
                "io-write-bps:", "env: \"NOEQUALS\"",
            ] {
                #expect(error.message.contains(part), "missing \(part) in \(error.message)")
            }
        }
    }

    @Test func aGoodRequestBecomesASpec() throws {
        var request = ExecRequest(command: ["--", "/bin/echo", "hi"])
        request.cpu = "500m"
        request.memory = "64Mi"
        request.pids = "32"
        request.timeout = "1m30s"
        request.environment = ["A=1=2"]
        let spec = try request.taskSpec()
        #expect(spec.argv == ["/bin/echo", "hi"])
        #expect(spec.limits.cpuCores == 0.5 && spec.limits.memoryMax == 64 << 20 && spec.limits.pidsMax == 32)
        #expect(spec.timeout == .seconds(90))
        #expect(spec.environment == ["A": "1=2"])
        #expect(spec.id.hasPrefix("t-") && spec.id.count == 10)
    }
}
