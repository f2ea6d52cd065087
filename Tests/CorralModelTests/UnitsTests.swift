import CorralModel
import Testing

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("512", UInt64(512)), ("64M", 64_000_000), ("64Mi", 64 << 20), ("64MiB", 64 << 20), ("1.5G", 1_500_000_000),
        ("2GiB", 2 << 30), ("10k", 10_000), ("4Ki", 4096), (" 8mi ", 8 << 20),
    ])
    func parsesDecimalAndBinarySuffixes(text: String, bytes: UInt64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test func maxMeansUnlimited() throws {
        #expect(try ByteSize.parse("max") == nil)
        #expect(try ByteSize.parse("unlimited") == nil)
    }

    @Test(arguments: ["12XB", "", "-1M", "M", "1.2.3G", "nan"])
    func rejectsGarbageNamingTheField(text: String) {
        #expect(throws: ValueError.self) { try ByteSize.parse(text, field: "resources.memory") }
        do {
            _ = try ByteSize.parse(text, field: "resources.memory")
        } catch {
            #expect(error.description.hasPrefix("resources.memory: \"\(text)\" is not a size"))
        }
    }

    @Test func formatsForHumans() {
        #expect(ByteSize.format(512) == "512 B")
        #expect(ByteSize.format(64 << 20) == "64.0 MiB")
        #expect(ByteSize.format(1536) == "1.5 KiB")
    }
}

@Suite struct CPUAndDurationTests {
    @Test func cpuAcceptsCoresAndMillicores() throws {
        #expect(try CPUQuantity.parse("0.5") == 0.5)
        #expect(try CPUQuantity.parse("250m") == 0.25)
        #expect(try CPUQuantity.parse("2") == 2)
    }

    @Test(arguments: ["0", "-1", "abc", "m"])
    func cpuRejectsNonPositive(text: String) {
        #expect(throws: ValueError.self) { try CPUQuantity.parse(text, field: "cpu") }
    }

    @Test(arguments: [
        ("10s", Duration.seconds(10)), ("500ms", .milliseconds(500)), ("1m30s", .seconds(90)), ("2h", .seconds(7200)),
        ("1.5", .milliseconds(1500)), ("1.5s", .milliseconds(1500)), ("250us", .microseconds(250)),
    ])
    func durationsParse(text: String, expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "10x", "s", "1m30", "ten seconds"])
    func badDurationsNameTheField(text: String) {
        #expect(throws: ValueError.self) { try DurationText.parse(text, field: "timeout") }
    }

    /// Found by schemathesis: a timeout of 6e16 seconds trapped converting to microseconds.
    @Test(arguments: ["6.087357876055911e+16", "1e300", "100000000000h", "-1", "inf", "nan"])
    func hugeOrNegativeDurationsAreRefusedNotATrap(text: String) {
        #expect(throws: ValueError.self) { try DurationText.parse(text, field: "timeout") }
    }
}

@Suite struct TaskOutcomeTests {
    @Test func statusLinesParse() {
        #expect(ExitStatus(statusLine: "exit 0\n") == .exited(0))
        #expect(ExitStatus(statusLine: "signal 9\n") == .signaled(9))
        #expect(ExitStatus(statusLine: "garbage") == nil)
        #expect(ExitStatus(statusLine: "") == nil)
    }

    @Test func jsonCarriesEveryFieldWithNullForTheAbsentOne() {
        let outcome = TaskOutcome(
            exitCode: nil, signal: 9, oomKilled: true, timedOut: false, memoryPeakBytes: 42, durationMs: 1.5)
        let json = outcome.jsonString()
        for key in [
            "exitCode", "signal", "oomKilled", "timedOut", "cpuUserUsec", "cpuSystemUsec", "memoryPeakBytes",
            "ioReadBytes", "ioWriteBytes", "durationMs",
        ] {
            #expect(json.contains("\"\(key)\":"), "missing \(key) in \(json)")
        }
        #expect(json.contains("\"exitCode\":null"))
        #expect(json.contains("\"signal\":9"))
        #expect(json.contains("\"oomKilled\":true"))
    }

    @Test func shellStatusFollowsTheShellConvention() {
        #expect(TaskOutcome(exitCode: 3, signal: nil, oomKilled: false, timedOut: false).shellStatus == 3)
        #expect(TaskOutcome(exitCode: nil, signal: 9, oomKilled: true, timedOut: false).shellStatus == 137)
        #expect(
            TaskOutcome(exitCode: nil, signal: 9, oomKilled: true, timedOut: false).summary.contains("out of memory"))
    }
}
