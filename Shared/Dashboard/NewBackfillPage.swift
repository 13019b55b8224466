import Foundation
import Hummingbird
import JobstreamBackfill
import JobstreamMessages

/// The "New backfill" page: an action, its file, preview on by default, and a failure brake. The
/// page's script sends the file as the body of `POST /api/backfills` (streamed by the browser, under
/// the signed-in token's cookie), then opens the new job's details, where the preview's counts and
/// — for an approver — its Apply button appear once a validator has run it: the whole safe path
/// without the CLI.
enum NewBackfillPage {
    static func form(maximumBytes: Int64) -> HTML {
        let options = HTML.joined(
            BackfillAction.all.map { action -> HTML in
                """
                <option value="\(action.name)" data-needs-file="\(action.needsFile ? "true" : "false")">\(action.name) — \(action.summary)</option>
                """
            })
        return """
            <form class="new-backfill" id="new-backfill">
            <label>Action <select name="action" required>\(options)</select></label>
            <label>File (.csv, or .zip holding one; at most \(Display.count(Int(maximumBytes))) bytes) \
            <input type="file" name="file" accept=".csv,.zip"></label>
            <label class="check"><input type="checkbox" name="preview" checked> Preview first: a dry run that writes \
            nothing; an approver applies it</label>
            <label>Pause past this many failed rows (500, or 2.5%; optional) <input type="text" name="maxFailed" maxlength="24"></label>
            <button type="submit">Submit</button>
            <p class="error" id="new-backfill-problem" role="alert" hidden></p>
            </form>
            <noscript><p class="error">This page sends the file with its script: allow scripts from this dashboard, \
            or use POST /api/backfills.</p></noscript>
            """
    }

    /// The details page of a job the log has and the status topic does not yet: it turns into the
    /// job's details, live, once a validator has taken it over.
    static func waiting(_ jobId: String) -> HTML {
        """
        <p class="notice">Backfill \(jobId) is logged. A validator takes it over within a few seconds; its details \
        appear here as soon as it does.</p>
        <p class="actions"><a href="/backfills">Back to the Backfill Logs</a></p>
        """
    }
}

extension Dashboard {
    func addNewBackfillPage(to router: Router<DashboardRequestContext>) {
        router.get("/backfills/new") { request, _ in
            try await viewing(request) { role in
                guard role >= .operator else {
                    return Responses.errorPage(
                        .forbidden, "Only an operator can submit a backfill: sign in with an operator token.",
                        layout: layout(request, role: role, title: "New backfill"))
                }
                return page(
                    request, role: role, title: "New backfill", live: [],
                    NewBackfillPage.form(maximumBytes: maximumUploadBytes))
            }
        }
    }
}
