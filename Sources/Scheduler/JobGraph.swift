import CorralProtocol

/// The edges between jobs (`dependsOn`), kept both ways: each job's upstream is in its record, the
/// downstream index is here. Also the jobs waiting for upstream jobs and why, and the jobs to look at
/// again because one of their upstream jobs ended or they just came in.
struct JobGraph: Sendable {
    private(set) var downstream: [JobID: Set<JobID>] = [:]
    /// Jobs held back by their upstream jobs, and the reason shown (`waiting for job X`).
    var waiting: [JobID: String] = [:]
    private var unsettled: [JobID] = []

    /// A job taken in: its edges are indexed, and it is looked at if it waits.
    mutating func add(_ job: JobRecord) {
        for edge in job.upstream ?? [] { downstream[edge.job, default: []].insert(job.id) }
        if job.holdsForUpstream { unsettled.append(job.id) }
    }

    mutating func remove(_ job: JobRecord) {
        for edge in job.upstream ?? [] {
            downstream[edge.job]?.remove(job.id)
            if downstream[edge.job]?.isEmpty == true { downstream[edge.job] = nil }
        }
        waiting[job.id] = nil
    }

    /// Every task of `job` has ended: the jobs waiting for it are looked at.
    mutating func ended(_ job: JobID) {
        guard let jobs = downstream[job] else { return }
        unsettled += jobs.sorted()
    }

    mutating func nextUnsettled() -> JobID? { unsettled.isEmpty ? nil : unsettled.removeFirst() }
    var isSettled: Bool { unsettled.isEmpty }
}
