import CorralProtocol

/// The frame around every page, and the sign-in page.
public enum ConsoleLayout {
    /// A page: header and navigation, the regions inside `body`, the stream that keeps them current.
    static func document(
        title: String, viewer: ConsoleViewer, csrf: String, active: String, stream: String?, body: String
    ) -> String {
        let e = ConsoleHTML.e
        var links = [("overview", "/ui/", "Overview")]
        if viewer.isAdmin { links.append(("nodes", "/ui/nodes", "Nodes")) }
        links += [("jobs", "/ui/jobs", "Jobs"), ("tenants", "/ui/tenants", "Tenants")]
        if viewer.isAdmin { links.append(("capacity", "/ui/capacity", "Capacity")) }
        let nav = links.map { key, href, label in
            "<a href=\"\(href)\"\(key == active ? " class=\"here\" aria-current=\"page\"" : "")>\(label)</a>"
        }.joined()
        let streamAttribute = stream.map { " data-stream=\"/ui/stream?\(e($0))\"" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="csrf-token" content="\(e(csrf))">
            <title>\(e(title)) · Corral</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/ui/console.css">
            <script src="/ui/console.js" defer></script>
            </head>
            <body\(streamAttribute)>
            <header id="top"><a class="brand" href="/ui/">Corral</a><nav>\(nav)</nav>
            <span class="who">\(e(viewer.label))</span>
            <span id="live" class="live" title="live updates">connecting</span>
            <button type="button" id="signout">Sign out</button></header>
            <main>
            <h1>\(e(title))</h1>
            <div id="message" role="status" aria-live="polite"></div>
            \(body)
            </main>
            </body></html>

            """
    }

    /// The sign-in page, with an error when the last attempt failed.
    public static func signIn(error: String?) -> String {
        let e = ConsoleHTML.e
        let problem = error.map { "<p class=\"error\" role=\"alert\">\(e($0))</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sign in · Corral</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/ui/console.css">
            </head>
            <body class="signin">
            <main>
            <h1>Corral</h1>
            <form method="post" action="/ui/login" id="signin">
            <label for="token">Token (admin or tenant)</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit">Sign in</button>
            \(problem)
            </form>
            <p class="hint">The token is the one your operator gave you for the API (<code>corral --token</code>).</p>
            </main>
            </body></html>

            """
    }
}
