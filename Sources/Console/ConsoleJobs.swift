import CorralModel
import CorralProtocol
import Foundation
import Reports

/// The jobs list with its filter, and a job's page: its tasks and their live logs.
enum ConsoleJobs {
    static func filter(tenant: String?, state: JobState?, tenants: [String], viewer: ConsoleViewer) -> String {
        let e = ConsoleHTML.e
        func option(_ value: String, _ label: String, _ selected: Bool) -> String {
            "<option value=\"\(e(value))\"\(selected ? " selected" : "")>\(e(label))</option>"
        }
        let tenantField =
            viewer.isAdmin
            ? "<label>tenant <select name=\"tenant\">" + option("", "all", tenant == nil)
                + tenants.map { option($0, $0, $0 == tenant) }.joined() + "</select></label>"
            : ""
        let states =
            option("", "all", state == nil)
            + JobState.allCases.map { option($0.rawValue, $0.rawValue, $0 == state) }.joined()
        return """
            <form class="filter" method="get" action="/ui/jobs">\(tenantField)
            <label>state <select name="state">\(states)</select></label>
            <button type="submit">Filter</button></form>
            """
    }

    static func table(_ data: ConsoleData) -> String {
        let e = ConsoleHTML.e
        let rows = data.jobs.map { job -> ConsoleHTML.Row in
            let tasks = TaskState.allCases.compactMap { state in
                job.tasks[state.rawValue].flatMap { $0 > 0 ? "\($0) \(state.rawValue)" : nil }
            }.joined(separator: ", ")
            let cancel = cancelButton(job, label: "Cancel")
            return ConsoleHTML.Row(
                "data-job=\"\(e(job.id.description))\"",
                [
                    "<a href=\"/ui/jobs/\(e(job.id.description))\">\(e(job.name))</a><br><small>\(e(job.id.description))</small>",
                    e(job.tenant),
                    ConsoleHTML.badge(job.state.rawValue, ConsoleHTML.tone(job.state))
                        + (job.waitingFor.map { "<br><small>\(e($0))</small>" } ?? ""),
                    e(tasks.isEmpty ? "–" : tasks), e(ConsoleHTML.time(job.submittedAt)), cancel,
                ])
        }
        let more =
            data.jobsMatched > data.jobs.count
            ? "<p class=\"note\">The newest \(data.jobs.count) of \(data.jobsMatched) jobs.</p>" : ""
        return more
            + ConsoleHTML.table(
                ["job", "tenant", "state", "tasks", "submitted", ""], rows, empty: "No job matches.", classes: "jobs")
    }

    /// Cancel (the API's `DELETE /v1/jobs/{id}`), for a job not already ending.
    static func cancelButton(_ job: JobView, label: String) -> String {
        guard !job.state.isTerminal && job.state != .cancelling else { return "" }
        return ConsoleHTML.action(
            label, method: "DELETE", url: "/v1/jobs/\(job.id)", confirm: "Cancel job \(job.name) (\(job.id))?")
    }

    static func head(_ data: ConsoleData) -> String {
        guard let job = data.job else { return "<p class=\"empty\">This job is gone.</p>" }
        let e = ConsoleHTML.e
        let spec = job.spec
        let cancel = cancelButton(job, label: "Cancel job")
        return """
            <div class="job-head" data-job="\(e(job.id.description))" data-state="\(job.state.rawValue)">
            <p>\(ConsoleHTML.badge(job.state.rawValue, ConsoleHTML.tone(job.state))) <b>\(e(job.name))</b> · tenant \
            \(e(job.tenant)) · \(spec.type.rawValue) · \(spec.count) task\(spec.count == 1 ? "" : "s") · \
            \(e(ReportText.cores(spec.resources.cpu))), \(e(ReportText.bytes(Double(spec.resources.memory)))) each · \
            submitted \(e(ConsoleHTML.time(job.submittedAt))) \(cancel)</p>
            \(job.waitingFor.map { "<p class=\"note\">Waiting: \(e($0))</p>" } ?? "")
            <p><code>\(e(spec.command.joined(separator: " ")))</code></p>
            </div>
            """
    }

    static func tasks(_ data: ConsoleData) -> String {
        let e = ConsoleHTML.e
        let rows = data.tasks.map { task -> ConsoleHTML.Row in
            var reason: [String] = []
            if let outcome = task.outcome { reason.append(outcome.summary) }
            if let code = task.exitCode, task.outcome == nil { reason.append("exit \(code)") }
            if let error = task.lastError { reason.append(error) }
            let usage =
                task.usage.map {
                    "CPU \(String(format: "%.1f", Double($0.cpuUsec) / 1e6)) s · \(ReportText.bytes(Double($0.memoryBytes)))"
                } ?? task.outcome.map(\.usageLine) ?? "–"
            // The current attempt's logs, running or ended (its node keeps them).
            let attempt =
                task.allocation
                ?? (task.node != nil && task.attempt > 0
                    ? AllocationID(task: TaskID(job: task.job, index: task.index), attempt: task.attempt) : nil)
            let logs =
                attempt.map {
                    "<button type=\"button\" class=\"logs\" data-log=\"\(e($0.description))\">logs</button>"
                } ?? ""
            return ConsoleHTML.Row(
                "data-task=\"\(task.index)\" data-state=\"\(task.state.rawValue)\"",
                [
                    "\(task.index)", ConsoleHTML.badge(task.state.rawValue, ConsoleHTML.tone(task.state)),
                    "\(task.attempt)", e(task.node?.rawValue ?? "–"),
                    e(reason.isEmpty ? "–" : reason.joined(separator: "; ")),
                    e(usage), e(ConsoleHTML.time(task.startedAt)), logs,
                ])
        }
        return ConsoleHTML.table(
            ["task", "state", "attempt", "node", "exit / reason", "usage", "started", ""], rows,
            empty: "No task yet.", classes: "tasks")
    }

    /// Not a region: the stream never replaces it, so a log being followed keeps its lines.
    static let logPanel = """
        <section class="region logs" aria-labelledby="logs-h"><h2 id="logs-h">Logs</h2>
        <p class="log-bar"><span id="log-source">choose a task's logs</span>
        <label>stream <select id="log-stream"><option>stdout</option><option>stderr</option></select></label></p>
        <pre id="log" tabindex="0"></pre></section>
        """
}
