import CorralClient
import CorralProtocol
import Foundation
import Synchronization

/// Submission streams against a cluster that is being hurt: the id and name of every job answered with
/// 201, and each failure.
final class SubmissionLedger: Sendable {
    let acknowledged = Mutex<[String: String]>([:])
    let failures = Mutex<[String]>([])

    var count: Int { acknowledged.withLock { $0.count } }

    /// One writer: `jobs` submissions of `/bin/true` named `w<writer>-<n>` for tenant `t`; with
    /// `stopOnFailure` it stops at its first failure, otherwise the next one goes on.
    func stream(_ client: SchedulerClient, writer: Int, jobs: Int, stopOnFailure: Bool) async {
        for n in 0..<jobs {
            let name = "w\(writer)-\(n)"
            let spec = #"{"name": "\#(name)", "tenant": "t", "command": ["/bin/true"]}"#
            do {
                let job = try await client.submit(Data(spec.utf8))
                acknowledged.withLock { $0[job.id.rawValue] = name }
            } catch {
                let why = (error as? APIError).map { "\($0.status) \($0.code): \($0.message)" } ?? "\(error)"
                failures.withLock { $0.append("\(name): \(why)") }
                if stopOnFailure { return }
            }
        }
    }

    /// Waits until at least `count` jobs are acknowledged (or 30 s pass).
    func wait(for count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while self.count < count && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }
}
