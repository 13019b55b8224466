import Hummingbird

/// The dashboard's stylesheet and script, served from its own origin so that the
/// Content-Security-Policy can forbid every inline or foreign script.
enum DashboardAssets {
    static func response(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "\(type); charset=utf-8"
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Live updates: on a change of one of the page's logs (`data-live`), re-fetch the page's live
    /// region (coalescing bursts) and swap it in. Every time the event stream opens — the first time
    /// too — the region is re-fetched once: a change that landed between rendering the page and
    /// subscribing (or while reconnecting) announced itself to nobody. Also asks before a Cancel form
    /// is sent, and sends the New backfill page's file to the API.
    static let script = #"""
        (() => {
          "use strict";
          document.addEventListener("submit", (event) => {
            const message = event.target.dataset && event.target.dataset.confirm;
            if (message && !window.confirm(message)) event.preventDefault();
          });
          const form = document.getElementById("new-backfill");
          if (form) {
            const problem = document.getElementById("new-backfill-problem");
            form.addEventListener("submit", async (event) => {
              event.preventDefault();
              const option = form.elements.action.selectedOptions[0];
              const file = form.elements.file.files[0];
              const query = new URLSearchParams({ action: form.elements.action.value });
              if (form.elements.preview.checked) query.set("preview", "true");
              if (form.elements.maxFailed.value.trim()) query.set("maxFailed", form.elements.maxFailed.value.trim());
              const withFile = option && option.dataset.needsFile === "true";
              if (withFile && !file) { problem.textContent = "Choose the file to send."; problem.hidden = false; return; }
              if (withFile) query.set("filename", file.name);
              form.querySelector("button").disabled = true;
              problem.hidden = true;
              try {
                const response = await fetch("/api/backfills?" + query.toString(), {
                  method: "POST", credentials: "same-origin", body: withFile ? file : null,
                  headers: withFile ? { "Content-Type": file.name.toLowerCase().endsWith(".zip") ? "application/zip" : "text/csv" } : {} });
                const answer = await response.json();
                if (response.status === 202) {
                  location.assign("/backfills/" + encodeURIComponent(answer.jobId) + "?notice=submitted");
                  return;
                }
                problem.textContent = answer.error || ("The dashboard answered " + response.status + ".");
              } catch (error) {
                problem.textContent = "The file could not be sent: " + error;
              }
              problem.hidden = false;
              form.querySelector("button").disabled = false;
            });
          }
          const main = document.getElementById("live");
          const indicator = document.getElementById("live-state");
          const logs = main ? (main.dataset.live || "").split(" ").filter(Boolean) : [];
          if (!main || logs.length === 0 || !window.EventSource) return;
          let timer = null, refreshes = 0;
          const refresh = async () => {
            timer = null;
            try {
              const response = await fetch(location.pathname + location.search,
                                           { headers: { "X-Live-Fragment": "1" }, credentials: "same-origin" });
              if (!response.ok) return;
              main.innerHTML = await response.text();
              refreshes += 1;
              main.dataset.refreshes = String(refreshes);
            } catch (error) {
              // The next change, or the next reconnect, fetches again.
            }
          };
          const schedule = () => { if (!timer) timer = setTimeout(refresh, 150); };
          const source = new EventSource("/events");
          source.addEventListener("open", () => {
            document.body.dataset.live = "connected";
            if (indicator) indicator.className = "live-state connected";
            schedule();
          });
          source.addEventListener("error", () => {
            document.body.dataset.live = "reconnecting";
            if (indicator) indicator.className = "live-state reconnecting";
          });
          source.addEventListener("change", (event) => { if (logs.includes(event.data)) schedule(); });
        })();
        """#

    static let stylesheet = """
        :root { --ink: #1d2733; --muted: #5f6b7a; --line: #d9dee5; --accent: #1f6feb; --done: #1a7f37;
                --warn: #9a6700; --fail: #cf222e; --run: #0969da; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fa; }
        header { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #fff; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
        header nav { display: flex; gap: 16px; flex: 1; }
        header nav a { color: var(--muted); text-decoration: none; padding: 4px 0; }
        header nav a[aria-current] { color: var(--ink); border-bottom: 2px solid var(--accent); }
        .live-state { color: var(--muted); font-size: 12px; }
        .live-state.connected { color: var(--done); }
        .live-state.reconnecting { color: var(--warn); }
        h1 { font-size: 20px; margin: 20px 24px 12px; }
        h2 { font-size: 16px; margin: 24px 0 8px; }
        main, .filters, form.sign-in, p.error { margin: 0 24px 16px; }
        table.log { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        table.log th, table.log td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
        table.log th { background: #f0f3f6; font-weight: 600; white-space: nowrap; }
        td.number { text-align: right; font-variant-numeric: tabular-nums; }
        td.actions { white-space: nowrap; }
        td.actions form, p.actions form { display: inline; margin-left: 8px; }
        .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
        .status-done { background: var(--done); } .status-warning { background: var(--warn); }
        .status-failed { background: var(--fail); } .status-running { background: var(--run); }
        .progress { display: inline-flex; align-items: center; gap: 6px; }
        progress { width: 120px; height: 10px; }
        dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; background: #fff;
                    border: 1px solid var(--line); padding: 14px 18px; margin: 0; }
        dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; overflow-wrap: anywhere; }
        .error { color: var(--fail); } .notice { color: var(--done); } .empty, .none { color: var(--muted); }
        .filters { display: flex; gap: 14px; align-items: end; flex-wrap: wrap; }
        .filters label, form.sign-in label { display: flex; flex-direction: column; gap: 3px; color: var(--muted); }
        form.sign-in { display: flex; flex-direction: column; gap: 12px; max-width: 360px; }
        form.new-backfill { display: flex; flex-direction: column; gap: 12px; max-width: 640px; margin: 0 24px 16px; }
        form.new-backfill label { display: flex; flex-direction: column; gap: 3px; color: var(--muted); }
        form.new-backfill label.check { flex-direction: row; align-items: center; gap: 8px; color: var(--ink); }
        p.new-link { margin: 0 24px 12px; }
        input, select, button { font: inherit; padding: 4px 8px; }
        button { cursor: pointer; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        form.cancel button { color: var(--fail); border-color: var(--fail); }
        form.apply button { color: var(--done); border-color: var(--done); }
        .tag { display: inline-block; padding: 0 6px; border: 1px solid var(--muted); border-radius: 10px;
               font-size: 11px; color: var(--muted); }
        a { color: var(--accent); }
        a.refresh { font-weight: 400; font-size: 12px; margin-left: 6px; }
        """
}
