/// The console's stylesheet and script, served from `/ui/`: the only ones its pages load.
public enum ConsoleAssets {
    public static let css = """
        :root { --fg: #1d2430; --muted: #5b6574; --line: #d9dee5; --bg: #f6f7f9; --accent: #1f5fbf;
          --ok: #1e7b34; --bad: #b3261e; --wait: #8a5a00; --live: #1f5fbf; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
        header#top { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; padding: 8px 16px;
          background: #17202e; color: #fff; }
        header#top a { color: #dfe6f0; text-decoration: none; }
        header#top .brand { font-weight: 700; font-size: 17px; color: #fff; }
        header#top nav { display: flex; flex-wrap: wrap; gap: 4px 12px; }
        header#top nav a.here { color: #fff; border-bottom: 2px solid #6ea8ff; }
        header#top .who { margin-left: auto; color: #b8c4d4; }
        header#top button { font-size: 13px; }
        .live { font-size: 12px; padding: 1px 8px; border-radius: 9px; background: #5b6574; }
        .live.on { background: var(--ok); } .live.off { background: var(--bad); }
        main { padding: 12px 16px 32px; max-width: 1400px; margin: 0 auto; }
        h1 { font-size: 21px; margin: 6px 0 10px; } h2 { font-size: 16px; margin: 0 0 8px; }
        .region { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
          margin-bottom: 12px; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px; }
        .tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; background: #fbfcfd; }
        .tile b { display: block; font-size: 22px; } .tile span { color: var(--muted); font-size: 12px; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
        small { color: var(--muted); }
        .badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff;
          background: var(--muted); white-space: nowrap; }
        .badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
        .badge.wait { background: var(--wait); } .badge.live { background: var(--live); }
        .empty, .note { color: var(--muted); }
        meter { width: 90px; vertical-align: middle; }
        button { font: inherit; padding: 3px 10px; border: 1px solid #9aa6b5; border-radius: 4px; background: #fff;
          color: var(--fg); cursor: pointer; }
        button.act { border-color: var(--accent); color: var(--accent); }
        #message:empty { display: none; }
        #message { padding: 6px 10px; border-radius: 4px; margin-bottom: 10px; background: #e7f0ff; }
        #message.error { background: #fde7e5; color: var(--bad); }
        .node-card { border-top: 1px solid var(--line); padding-top: 6px; margin-top: 6px; }
        .node-card:first-child { border-top: 0; margin-top: 0; }
        .node-card h3 { font-size: 15px; margin: 0; } .node-card .now { margin: 2px 0 6px; color: var(--muted); }
        .charts { display: flex; flex-wrap: wrap; gap: 8px; }
        svg.chart { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px;
          font: 10px sans-serif; }
        svg .title { font-size: 12px; font-weight: bold; } svg .axis { font-size: 11px; fill: #333; }
        form.filter input { font: inherit; padding: 2px 6px; }
        form.filter { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin-bottom: 12px; }
        .log-bar { display: flex; flex-wrap: wrap; gap: 6px 14px; margin: 0 0 6px; color: var(--muted); }
        pre#log { margin: 0; min-height: 120px; max-height: 420px; overflow: auto; background: #10161f; color: #d8e1ec;
          padding: 8px 10px; border-radius: 4px; font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap;
          word-break: break-all; }
        .report { overflow-x: auto; } .report > h1 { display: none; } .report table { width: auto; } .report td, .report th { text-align: right; }
        .report td:first-child, .report th:first-child { text-align: left; }
        .report li.critical b { color: var(--bad); } .report li.warning b { color: #e65100; }
        .report h2 { border-bottom: 1px solid var(--line); margin-top: 22px; }
        body.signin main { max-width: 380px; margin-top: 12vh; }
        body.signin form { display: grid; gap: 8px; background: #fff; border: 1px solid var(--line);
          border-radius: 6px; padding: 16px; }
        body.signin input { font: inherit; padding: 6px 8px; }
        .error { color: var(--bad); } .hint { color: var(--muted); font-size: 13px; }
        @media (max-width: 600px) {
          main { padding: 8px 8px 24px; } header#top { padding: 8px; } header#top .who { margin-left: 0; }
          .tile b { font-size: 19px; }
          /* Tables become one card per row, each value beside its column's name. */
          table.cards thead { display: none; }
          table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
          table.cards tr { border: 1px solid var(--line); border-radius: 6px; margin-bottom: 8px; padding: 4px 0; }
          table.cards td { border: 0; padding: 2px 8px; display: flex; gap: 8px; overflow-wrap: anywhere; }
          table.cards td::before { content: attr(data-label); flex: 0 0 34%; color: var(--muted); font-size: 12px; }
          table.cards td[data-label=""]::before { content: none; }
        }

        """

    public static let javascript = #"""
        // Corral console: keeps the page's regions current from its event stream, runs the few actions with
        // the session's CSRF token, and follows a task's log. Talks to this origin only.
        "use strict";
        (function () {
          const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
          const live = document.getElementById("live");
          const message = document.getElementById("message");

          function say(text, isError) {
            if (!message) return;
            message.textContent = text;
            message.className = isError ? "error" : "";
          }

          function setLive(state, label) {
            if (!live) return;
            live.className = "live " + state;
            live.textContent = label;
          }

          const streamURL = document.body.dataset.stream;
          if (!streamURL && live) live.hidden = true;  // a page without live regions
          if (streamURL) {
            const source = new EventSource(streamURL);
            source.addEventListener("open", () => setLive("on", "live"));
            source.addEventListener("error", () => setLive("off", "reconnecting"));
            source.addEventListener("region", (event) => {
              const region = JSON.parse(event.data);
              const element = document.getElementById(region.id);
              if (element) element.innerHTML = region.html;
              followFirstLog();
            });
            source.addEventListener("signed-out", () => { source.close(); location.assign("/ui/login"); });
          }

          async function send(method, url, body) {
            const headers = { "X-Corral-CSRF": csrf };
            if (body) headers["Content-Type"] = "application/json";
            const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
            let detail = null;
            try { detail = await response.json(); } catch (e) { detail = null; }
            if (!response.ok) throw new Error((detail && detail.message) || ("HTTP " + response.status));
            return detail;
          }

          document.addEventListener("click", async (event) => {
            const button = event.target.closest("button.act");
            if (button) {
              if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
              button.disabled = true;
              try {
                await send(button.dataset.method, button.dataset.url, button.dataset.body);
                say(button.textContent + ": done");
              } catch (error) {
                say(button.textContent + ": " + error.message, true);
                button.disabled = false;
              }
              return;
            }
            const logs = event.target.closest("button.logs");
            if (logs) follow(logs.dataset.log);
          });

          const signout = document.getElementById("signout");
          if (signout) signout.addEventListener("click", async () => {
            try { await send("POST", "/ui/logout"); } catch (error) { /* signed out either way */ }
            location.assign("/ui/login");
          });

          // Logs: one EventSource at a time, for the chosen allocation and stream.
          const log = document.getElementById("log");
          const logSource = document.getElementById("log-source");
          const logStream = document.getElementById("log-stream");
          let following = null;
          let logEvents = null;

          function follow(allocation) {
            if (!log) return;
            if (logEvents) logEvents.close();
            following = allocation;
            log.textContent = "";
            const stream = logStream ? logStream.value : "stdout";
            logSource.textContent = allocation + " · " + stream;
            logEvents = new EventSource("/ui/logs/" + encodeURIComponent(allocation) + "/" + stream);
            logEvents.addEventListener("log", (event) => {
              const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
              log.append(JSON.parse(event.data).text);
              if (atEnd) log.scrollTop = log.scrollHeight;
            });
            logEvents.addEventListener("end", (event) => {
              logEvents.close();
              logSource.textContent = allocation + " · " + stream + " · " + JSON.parse(event.data).reason;
            });
            logEvents.addEventListener("problem", (event) => {
              logEvents.close();
              logSource.textContent = allocation + " · " + JSON.parse(event.data).message;
            });
          }

          function followFirstLog() {
            if (!log || following) return;
            const first = document.querySelector("button.logs");
            if (first) follow(first.dataset.log);
          }

          if (logStream) logStream.addEventListener("change", () => { if (following) follow(following); });
          followFirstLog();
        })();

        """#
}
