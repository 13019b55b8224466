import JobstreamMessages
import JobstreamSync

/// The Sync History page (filters, refresh, clear) and a session's Show Result page.
enum SyncPages {
    static func statusKind(_ status: SyncSessionStatus) -> String {
        switch status {
        case .finished: "done"
        case .finishedWithErrors: "warning"
        case .failure: "failed"
        case .running: "running"
        }
    }

    /// The From/To/Operation form; it stays outside the live region so typing is never interrupted.
    static func filterForm(from: String, to: String, operation: String, problem: String?) -> HTML {
        let options = [("", "All")] + SyncOperation.allCases.map { ($0.rawValue, "\($0.rawValue) Sync") }
        let optionsHTML = options.map { value, label -> HTML in
            value == operation
                ? "<option value=\"\(value)\" selected>\(label)</option>" : "<option value=\"\(value)\">\(label)</option>"
        }
        let problemHTML: HTML = problem.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        return """
            <form class="filters" method="get" action="/sync">
            <label>From <input type="date" name="from" value="\(from)"></label>
            <label>To <input type="date" name="to" value="\(to)"></label>
            <label>Operation <select name="operation">\(optionsHTML)</select></label>
            <button type="submit">Filter</button>
            <a href="/sync" class="clear">clear</a>
            </form>
            \(problemHTML)
            """
    }

    static func list(_ history: (sessions: [SyncSessionSummary], matching: Int), refreshHref: String) -> HTML {
        let sessions = history.sessions
        let heading: HTML = """
            <thead><tr><th>Session Id</th><th>Operation</th><th>Started On</th><th>Finished On</th><th>Synced</th><th>Failed</th>\
            <th>Status <a class="refresh" href="\(refreshHref)">refresh</a></th></tr></thead>
            """
        guard !sessions.isEmpty else {
            return "<table class=\"log\">\(heading)</table><p class=\"empty\">No sync sessions match.</p>"
        }
        let rows = sessions.map { session -> HTML in
            let id = PageLayout.pathSegment(session.sessionId)
            let more: HTML =
                session.recordsFailed > 0
                ? " <a class=\"more\" href=\"/sync/\(id)/failures.csv\" download>[more...]</a>" : ""
            return """
                <tr data-session="\(session.sessionId)">
                <td>\(session.sessionId)</td>
                <td>\(session.operation.rawValue)</td>
                <td>\(Display.date(session.startedAt))</td>
                <td>\(Display.date(session.finishedAt))</td>
                <td class="number">\(Display.count(session.recordsSynced))</td>
                <td class="number">\(Display.count(session.recordsFailed))\(more)</td>
                <td><a href="/sync/\(id)">\(Display.status(session.status.rawValue, kind: statusKind(session.status)))</a></td>
                </tr>
                """
        }
        let more: HTML =
            history.matching > sessions.count
            ? "<p class=\"empty\">The newest \(Display.count(sessions.count)) of \(Display.count(history.matching)) sessions; narrow the dates or the operation to see the others.</p>"
            : ""
        return "<table class=\"log\">\(heading)<tbody>\(rows)</tbody></table>\(more)"
    }

    static func details(
        _ session: SyncSessionSummary, failures: [SyncHistoryQuery.FailedRecord],
        changes: [SyncHistoryQuery.CrmIdChangeResult]
    ) -> HTML {
        let id = PageLayout.pathSegment(session.sessionId)
        var lines: [(String, HTML)] = [
            ("Session Id", Display.text(session.sessionId)), ("Operation", Display.text(session.operation.rawValue)),
            ("Status", Display.status(session.status.rawValue, kind: statusKind(session.status))),
            ("Started On", Display.text(Display.date(session.startedAt))),
            ("Finished On", Display.text(Display.date(session.finishedAt))),
            ("Records Synced", Display.text(Display.count(session.recordsSynced))),
            ("Records Failed", Display.text(Display.count(session.recordsFailed))),
            ("Retried Automatically", Display.text(Display.count(session.recordsToRetry))),
            ("Need A Manual Fix", Display.text(Display.count(session.recordsNeedingFix))),
            ("CRM Id Changes", Display.text(Display.count(session.crmIdChanges))),
        ]
        if let expected = session.recordsExpected {
            lines.insert(("Records Reported", Display.text(Display.count(expected))), at: 5)
        }
        if let failure = session.failure {
            lines.append(("Failure", "<span class=\"error\">\(failure.rawValue) failure: \(session.failureReason ?? "")</span>"))
            lines.append(("Next Cycle", "the whole session is retried"))
        } else if session.recordsToRetry > 0 {
            lines.append(("Next Cycle", "\(Display.count(session.recordsToRetry)) record(s) retried"))
        }
        var sections: [HTML] = [Display.fields(lines)]
        if !failures.isEmpty {
            let shown: HTML =
                session.recordsFailed > failures.count
                ? " (first \(Display.count(failures.count)) of \(Display.count(session.recordsFailed)))" : ""
            let rows = failures.map { record -> HTML in
                """
                <tr><td>\(record.objectType)</td><td>\(record.objectId)</td><td>\(record.errorCode)</td>\
                <td>\(record.errorMessage ?? "")</td><td>\(record.retryable ? "Automatic" : "Manual fix")</td></tr>
                """
            }
            sections.append(
                """
                <h2>Failed records\(shown)</h2>
                <p><a class="download" href="/sync/\(id)/failures.csv" download>Download every failed record (CSV)</a></p>
                <table class="log"><thead><tr><th>Object</th><th>Id</th><th>Error Code</th><th>Error Message</th><th>Retry</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """)
        }
        if !changes.isEmpty {
            let rows = changes.map { change -> HTML in
                "<tr><td>\(change.objectType)</td><td>\(change.objectId)</td><td>\(change.previousCrmId)</td><td>\(change.newCrmId)</td></tr>"
            }
            sections.append(
                """
                <h2>CRM Id Change Results</h2>
                <table class="log"><thead><tr><th>Object</th><th>Id</th><th>Previous CRM Id</th><th>New CRM Id</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """)
        }
        sections.append("<p class=\"actions\"><a href=\"/sync\">close</a></p>")
        return HTML.joined(sections)
    }
}
