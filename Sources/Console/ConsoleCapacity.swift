/// The capacity page's options: how much history the report reads and how far it looks ahead.
enum ConsoleCapacity {
    static func form(since: String, horizon: String) -> String {
        let e = ConsoleHTML.e
        let file =
            "/v1/reports/capacity?format=html&since=\(ConsoleHTML.query(since))&horizon=\(ConsoleHTML.query(horizon))"
        return """
            <form class="filter" method="get" action="/ui/capacity">
            <label>history <input name="since" value="\(e(since))" size="5"></label>
            <label>horizon <input name="horizon" value="\(e(horizon))" size="5"></label>
            <button type="submit">Regenerate</button> <a href="\(e(file))">Open as a file</a></form>
            """
    }
}
