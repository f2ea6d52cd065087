/// Console: the scheduler's web console as HTML. Pages are rendered on the server from the API's views;
/// each page is a set of named regions that the page's event stream re-sends when they change, and the
/// console's own small script swaps them in. Nothing here fetches anything from another origin: no
/// external scripts, fonts or styles.
import CorralModel
import CorralProtocol
import Reports

/// Who is looking: the admin sees the whole cluster, a tenant its own jobs and quota.
public enum ConsoleViewer: Sendable, Equatable {
    case admin
    case tenant(String)

    /// The tenant whose things are shown, nil for all.
    public var tenant: String? {
        if case .tenant(let name) = self { return name }
        return nil
    }

    public var isAdmin: Bool { self == .admin }

    var label: String { tenant.map { "tenant \($0)" } ?? "admin" }
}

/// One part of a page the event stream keeps current: the element's id and its inner HTML.
public struct ConsoleRegion: Sendable, Equatable {
    public var id: String
    public var html: String

    public init(_ id: String, _ html: String) {
        self.id = id
        self.html = html
    }
}

/// The console's pages, as the stream's `page` query names them.
public enum ConsolePage: Sendable, Equatable {
    case overview
    case nodes
    case jobs(tenant: String?, state: JobState?)
    case job(JobID)
    case tenants
    case capacity

    /// The page a stream's query asks for; nil for an unknown page or a malformed value.
    public init?(page: String, job: String?, tenant: String?, state: String?) {
        switch page {
        case "overview": self = .overview
        case "nodes": self = .nodes
        case "tenants": self = .tenants
        case "jobs":
            let stateValue = state.flatMap { $0.isEmpty ? nil : $0 }
            let parsed = stateValue.map { JobState(rawValue: $0) }
            if case .some(nil) = parsed { return nil }
            self = .jobs(tenant: tenant.flatMap { $0.isEmpty ? nil : $0 }, state: parsed ?? nil)
        case "job":
            guard let job, let id = JobID(job) else { return nil }
            self = .job(id)
        default: return nil
        }
    }

    /// The stream's query for this page.
    public var streamQuery: String {
        switch self {
        case .overview: "page=overview"
        case .nodes: "page=nodes"
        case .tenants: "page=tenants"
        case .capacity: "page=capacity"
        case .job(let id): "page=job&job=\(id)"
        case .jobs(let tenant, let state):
            "page=jobs" + (tenant.map { "&tenant=\(ConsoleHTML.query($0))" } ?? "")
                + (state.map { "&state=\($0.rawValue)" } ?? "")
        }
    }

    /// Pages only the admin may open.
    public var adminOnly: Bool {
        switch self {
        case .nodes, .capacity: true
        case .overview, .jobs, .job, .tenants: false
        }
    }
}

/// Small writing helpers shared by the pages.
enum ConsoleHTML {
    static func e(_ text: String) -> String { ReportText.html(text) }

    /// A value for a URL query: letters, digits and `-._~` as they are, the rest percent-encoded.
    static func query(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func percent(_ fraction: Double) -> String { ReportText.percent(fraction) }

    static func time(_ seconds: Double?) -> String { seconds.map { ReportText.date($0) } ?? "–" }

    /// A table row: its attributes (`data-job="..."`) and its cells' HTML.
    struct Row {
        var attributes: String
        var cells: [String]

        init(_ attributes: String = "", _ cells: [String]) {
            self.attributes = attributes
            self.cells = cells
        }
    }

    /// A table, or a line saying there is nothing to show. Each cell carries its column's name, which a
    /// phone-width screen shows beside the value (the stylesheet stacks rows into cards there).
    static func table(_ headers: [String], _ rows: [Row], empty: String, classes: String = "") -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(e(empty))</p>" }
        let head = headers.map { "<th>\(e($0))</th>" }.joined()
        let body = rows.map { row in
            "<tr\(row.attributes.isEmpty ? "" : " " + row.attributes)>"
                + zip(headers + Array(repeating: "", count: max(0, row.cells.count - headers.count)), row.cells).map {
                    "<td data-label=\"\(e($0))\">\($1)</td>"
                }.joined() + "</tr>"
        }
        return "<div class=\"scroll\"><table class=\"cards \(classes)\"><thead><tr>\(head)</tr></thead><tbody>\n"
            + body.joined(separator: "\n") + "\n</tbody></table></div>"
    }

    /// A state as a coloured label.
    static func badge(_ text: String, _ tone: String) -> String {
        "<span class=\"badge \(tone)\">\(e(text))</span>"
    }

    static func tone(_ state: JobState) -> String {
        switch state {
        case .completed: "ok"
        case .failed, .skipped: "bad"
        case .running, .active: "live"
        case .cancelling, .cancelled, .paused: "muted"
        case .pending, .scheduled: "wait"
        }
    }

    static func tone(_ state: TaskState) -> String {
        switch state {
        case .completed: "ok"
        case .failed, .lost: "bad"
        case .running: "live"
        case .killed: "muted"
        case .pending, .scheduled: "wait"
        }
    }

    /// A button the console's script turns into a request: `method` to `url` with the CSRF header, after
    /// a confirmation when `confirm` is given.
    static func action(_ label: String, method: String, url: String, body: String? = nil, confirm: String? = nil)
        -> String
    {
        var attributes = "data-method=\"\(method)\" data-url=\"\(e(url))\""
        if let body { attributes += " data-body=\"\(e(body))\"" }
        if let confirm { attributes += " data-confirm=\"\(e(confirm))\"" }
        return "<button type=\"button\" class=\"act\" \(attributes)>\(e(label))</button>"
    }

    /// A fraction as a meter and its percentage (no inline styles: the page's policy allows none).
    static func meter(_ fraction: Double, label: String) -> String {
        let value = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        return "<meter min=\"0\" max=\"1\" low=\"0.7\" high=\"0.9\" optimum=\"0.2\" value=\"\(value)\" "
            + "title=\"\(e(label))\"></meter> \(e(percent(fraction)))"
    }
}
