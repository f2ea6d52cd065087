import CorralModel
import CorralProtocol
import Scheduler

extension JobView {
    /// The job as the scheduler holds it now: its tasks' states and why they wait.
    init(_ job: JobRecord, scheduler: Scheduler) async {
        var schedule: ScheduleView?
        if let (_, state) = await scheduler.schedule(job.id) {
            schedule = ScheduleView(
                nextFire: state.paused ? nil : state.nextFire, lastFire: state.lastFire, paused: state.paused,
                fired: state.fired, skipped: state.skipped, missed: state.missed, lastSkip: state.lastSkip,
                active: await scheduler.activeRuns(of: job.id))
        }
        self.init(
            id: job.id, spec: job.spec, cancelled: job.cancelled, submittedAt: job.submittedAt,
            taskStates: await scheduler.tasks(of: job.id).map(\.state),
            waitingFor: await scheduler.blockedReason(job: job.id), schedule: schedule, scheduledBy: job.schedule,
            fire: job.fire, skipped: job.skipped)
    }
}

extension TaskView {
    init(_ record: TaskRecord) {
        self.init(
            job: record.id.job, index: record.id.index, state: record.state, attempt: record.machine.attempt,
            node: record.machine.lastNode, allocation: record.allocation, exitCode: record.exitCode,
            lastError: record.machine.lastError, retryAt: record.state == .pending ? record.notBefore : nil,
            startedAt: record.startedAt, usage: record.usage, outcome: record.outcome,
            network: record.state == .running || record.state == .scheduled ? record.network : nil,
            health: record.state == .running ? record.health : nil, checkpoint: record.checkpoint)
    }
}
