import Foundation
import Logging
import TestSupport
import Testing

@testable import Agent

/// Bridge tasks get the host's resolv.conf without the loopback servers they cannot reach.
@Suite struct TaskResolvConfTests {
    @Test func loopbackServersAreDroppedAndTheRestKept() throws {
        let directory = TemporaryDirectory("corral-resolv")
        let host = directory.path + "/host-resolv.conf"
        try "nameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.2\n\noptions edns0\nsearch example.org\n"
            .write(toFile: host, atomically: true, encoding: .utf8)
        let written = try #require(TaskResolvConf.write(from: host, into: directory.path, logger: Logger(label: "t")))
        #expect(
            try String(contentsOfFile: written, encoding: .utf8)
                == "nameserver 10.0.0.2\noptions edns0\nsearch example.org\n")
    }

    @Test func aHostWithOnlyALoopbackResolverGivesTasksNothing() throws {
        let directory = TemporaryDirectory("corral-resolv")
        let host = directory.path + "/host-resolv.conf"
        try "nameserver 127.0.0.53\noptions edns0 trust-ad\n".write(toFile: host, atomically: true, encoding: .utf8)
        #expect(TaskResolvConf.write(from: host, into: directory.path, logger: Logger(label: "t")) == nil)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/task-resolv.conf"))
    }
}
