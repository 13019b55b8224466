import Foundation
import HTTPTypes
import Hummingbird
import JobstreamBackfill
import JobstreamMessages
import JobstreamMigration
import JobstreamStore
import JobstreamSync

/// The page routes: the three logs, details, downloads and the Cancel form.
extension Dashboard {
    /// The header `dashboard.js` sends when it re-fetches a page's live region.
    static let liveFragmentHeader = HTTPField.Name("X-Live-Fragment")!

    /// The most sessions the Sync History page lists; the filter narrows the rest down.
    static let syncPageRows = 500

    func addPages(to router: Router<DashboardRequestContext>) {
        router.get("/backfills") { request, _ in
            try await viewing(request) { role in
                page(
                    request, role: role, title: "Backfill Logs", live: [.backfills],
                    BackfillPages.list(await board.backfillList(), role: role),
                    above: role >= .operator ? "<p class=\"new-link\"><a href=\"/backfills/new\">New backfill</a></p>" : "")
            }
        }
        addNewBackfillPage(to: router)
        router.get("/backfills/:job") { request, context in
            try await viewing(request) { role in
                let id = try Self.identifier(context, "job")
                guard let job = await board.backfill(id) else {
                    if try await BackfillJobLog(store: store).job(id) != nil {
                        return page(
                            request, role: role, title: "Backfill details", live: [.backfills], NewBackfillPage.waiting(id))
                    }
                    return notFound("no backfill \(id) on the status topic", request, role)
                }
                let notice = request.uri.queryParameters.get("notice").flatMap {
                    $0 == "submitted"
                        ? "Submitted. This page follows the job; a preview's counts, and Apply for an approver, appear when it completes."
                        : OperatorAction(notice: $0)?.noticeText
                }
                return page(
                    request, role: role, title: "Backfill details", live: [.backfills],
                    BackfillPages.details(
                        job, role: role, notice: notice, deliveries: try await WebhookOutbox(store: store).deliveries(of: id)))
            }
        }
        router.get("/backfills/:job/result.csv") { request, context in
            try await viewing(request) { role in
                let id = try Self.identifier(context, "job")
                guard let job = await board.backfill(id) else {
                    return notFound("no backfill \(id) on the status topic", request, role)
                }
                guard let path = job.resultPath, let name = job.resultFile else {
                    return notFound(
                        "backfill \(id) is \(job.status.rawValue) and has no result file"
                            + (job.status.isTerminal ? "" : " yet"), request, role)
                }
                let size: Int64?
                do { size = try await files.size(path) } catch {
                    return notFound("the result file of backfill \(id) cannot be read: \(error)", request, role)
                }
                guard size != nil else {
                    return notFound("the result file of backfill \(id) is not in the file store (\(path))", request, role)
                }
                return CSVDownload.response(fileName: name, body: CSVDownload.file(path, of: id, in: files))
            }
        }
        for action in OperatorAction.allCases {
            router.post("/backfills/:job/\(action.rawValue)") { request, context in
                var request = request
                let body = try await request.collectBody(upTo: 4 * 1024)
                let form = (try? URLEncodedFormDecoder().decode(ActionForm.self, from: String(buffer: body))) ?? ActionForm()
                return try await actionFromPage(
                    action, request, context: context, jobId: try Self.identifier(context, "job"),
                    overwriteChanged: form.overwriteChanged == "true")
            }
        }
        router.get("/migrations") { request, _ in
            try await viewing(request) { role in
                page(
                    request, role: role, title: "Migration Logs", live: [.migrations],
                    MigrationPages.list(await board.migrationList()))
            }
        }
        router.get("/migrations/:migration") { request, context in
            try await viewing(request) { role in
                let id = try Self.identifier(context, "migration")
                guard let migration = await board.migration(id) else {
                    return notFound("no migration \(id) on the status topic", request, role)
                }
                let warnings = try await MigrationLedger(store: store).warnings(id, limit: 100)
                return page(
                    request, role: role, title: "Migration details", live: [.migrations],
                    MigrationPages.details(migration, warnings: warnings))
            }
        }
        router.get("/migrations/:migration/warnings.csv") { request, context in
            try await viewing(request) { role in
                let id = try Self.identifier(context, "migration")
                guard await board.migration(id) != nil else {
                    return notFound("no migration \(id) on the status topic", request, role)
                }
                let ledger = MigrationLedger(store: store)
                return CSVDownload.response(
                    fileName: "migration-\(id)-warnings.csv",
                    body: CSVDownload.paged(
                        header: ["Charge Id", "Reason"], fields: { [$0.chargeId, $0.reason] }, position: \.chargeId
                    ) { after, limit in try await ledger.warnings(id, after: after, limit: limit) })
            }
        }
        router.get("/sync") { request, _ in
            try await viewing(request) { role in
                let query = request.uri.queryParameters
                let (from, to, operation) = (query.get("from") ?? "", query.get("to") ?? "", query.get("operation") ?? "")
                let refresh = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                do throws(FilterProblem) {
                    let filter = try SyncFilterQuery.parse(from: from, to: to, operation: operation)
                    return page(
                        request, role: role, title: "Sync History", live: [.sync],
                        SyncPages.list(await board.syncHistory(filter, limit: Self.syncPageRows), refreshHref: refresh),
                        above: SyncPages.filterForm(from: from, to: to, operation: operation, problem: nil))
                } catch {
                    return page(
                        request, role: role, title: "Sync History", live: [], status: .badRequest,
                        "<p class=\"empty\">Fix the filter to see the sync history.</p>",
                        above: SyncPages.filterForm(from: from, to: to, operation: operation, problem: error.description))
                }
            }
        }
        router.get("/sync/:session") { request, context in
            try await viewing(request) { role in
                let id = try Self.identifier(context, "session")
                guard let session = await board.syncSession(id) else {
                    return notFound(
                        "no sync session \(id) on the sync history topic (never reported, or deleted after 30 days)",
                        request, role)
                }
                let query = SyncHistoryQuery(store: store)
                let failures = try await query.failedRecords(id, limit: 20)
                let changes = try await query.crmIdChanges(id, limit: 100)
                return page(
                    request, role: role, title: "Sync session result", live: [.sync],
                    SyncPages.details(session, failures: failures, changes: changes))
            }
        }
        router.get("/sync/:session/failures.csv") { request, context in
            try await viewing(request) { role in
                let id = try Self.identifier(context, "session")
                guard await board.syncSession(id) != nil else {
                    return notFound("no sync session \(id) on the sync history topic", request, role)
                }
                let query = SyncHistoryQuery(store: store)
                return CSVDownload.response(
                    fileName: "sync-\(id)-failures.csv",
                    body: CSVDownload.paged(
                        header: ["Object Type", "Object Id", "CRM Id", "Error Code", "Error Message", "Retry"],
                        fields: {
                            [
                                $0.objectType, $0.objectId, $0.crmId ?? "", $0.errorCode, $0.errorMessage ?? "",
                                $0.retryable ? "Automatic" : "Manual fix",
                            ]
                        },
                        position: { (objectType: $0.objectType, objectId: $0.objectId) }
                    ) { after, limit in try await query.failedRecords(id, after: after, limit: limit) })
            }
        }
    }

    /// Runs `body` with the request's role when it may view the logs, else sends it to sign in.
    func viewing(_ request: Request, _ body: (DashboardAccess.Role) async throws -> Response) async throws -> Response {
        let role = access.role(of: request)
        guard access.mayView(role) else {
            // A live re-fetch gets a plain refusal: a sign-in page must not land inside the old page.
            if request.headers[Self.liveFragmentHeader] == "1" { return Responses.apiError(.unauthorized, "sign in again") }
            return Responses.seeOther("/login?next=\(PageLayout.queryValue(request.uri.path))")
        }
        return try await body(role)
    }

    /// A page, or only its live region when `dashboard.js` asks for it.
    func page(
        _ request: Request, role: DashboardAccess.Role, title: String, live: [StatusBoard.Log],
        status: HTTPResponse.Status = .ok, _ content: HTML, above: HTML = ""
    ) -> Response {
        if request.headers[Self.liveFragmentHeader] == "1" { return Responses.html(content, status: status) }
        return Responses.html(layout(request, role: role, title: title, live: live).render(content, above: above), status: status)
    }

    func layout(_ request: Request, role: DashboardAccess.Role, title: String, live: [StatusBoard.Log] = []) -> PageLayout {
        PageLayout(
            title: title, live: live, role: role, name: access.identity(of: request).name, access: access, path: request.uri.path)
    }

    func notFound(_ message: String, _ request: Request, _ role: DashboardAccess.Role) -> Response {
        Responses.errorPage(.notFound, message, layout: layout(request, role: role, title: "Not found"))
    }

    /// What a button's form sends besides the click: Apply's and Revert's "overwrite records changed since".
    struct ActionForm: Decodable {
        var overwriteChanged: String?
    }

    /// The operator's buttons: operators only (Apply: named approvers only), from the dashboard's own
    /// pages only. Every request goes to the audit trail, taken or refused.
    func actionFromPage(
        _ action: OperatorAction, _ request: Request, context: DashboardRequestContext, jobId: String,
        overwriteChanged: Bool = false
    ) async throws -> Response {
        let identity = access.identity(of: request)
        let layout = layout(request, role: identity.role, title: "\(action.verb.capitalized) backfill")
        let actor = Self.actorName(identity, fallback: Self.operatorName(request))
        let outcome: CancelOutcome
        if !access.actionsEnabled {
            outcome = .refused(.forbidden, "Actions are off: this dashboard has no operator token configured.")
        } else if identity.role < .operator {
            outcome = .refused(.forbidden, "Only an operator can \(action.verb) a backfill: sign in with an operator token.")
        } else if action == .apply, identity.role < .approver || identity.name == nil {
            outcome = .refused(
                .forbidden,
                "Only an approver can apply a preview: sign in with your named approver token, so that the job log names who approved it."
            )
        } else if !Self.isSameOrigin(request) {
            outcome = .refused(.forbidden, "The \(action.verb) request did not come from this dashboard's page.")
        } else {
            switch action {
            case .cancel: outcome = await requestCancel(jobId, requestedBy: actor)
            case .pause, .resume: outcome = await requestHold(action, jobId, requestedBy: actor, maxFailed: nil)
            case .apply, .revert:
                outcome = await recorded(action.verb, jobId) {
                    _ = try await startNewJob(
                        action, jobId, approver: identity.name, generatedBy: actor, overwriteChanged: overwriteChanged)
                }
            }
        }
        await audit(
            identity, actor: actor, action: "backfill.\(action.rawValue)", target: ("backfill", jobId), outcome: outcome,
            detail: "from the dashboard page" + (overwriteChanged ? ", overwrite changed" : ""), request: request,
            context: context)
        switch outcome {
        case .requested:
            return Responses.seeOther("/backfills/\(PageLayout.pathSegment(jobId))?notice=\(action.notice)")
        case .refused(let status, let message):
            return Responses.errorPage(status, message, layout: layout)
        }
    }

    /// Records a pause or a resume (with a new failure brake when `maxFailed` is given), as
    /// ``requestCancel(_:requestedBy:)`` does a cancel.
    func requestHold(_ action: OperatorAction, _ jobId: String, requestedBy: String, maxFailed: String?) async -> CancelOutcome {
        guard let job = await board.backfill(jobId) else {
            return .refused(.notFound, "no backfill \(jobId) on the status topic")
        }
        guard action == .pause ? job.pausable : job.resumable else {
            return .refused(
                .conflict,
                "backfill \(jobId) is \(job.status.rawValue); only a \(action == .pause ? "Processing" : "Paused") job can be \(action.pastTense)"
            )
        }
        return await recorded(action.verb, jobId) {
            if action == .pause {
                try await actions.requestPause(jobId: jobId, requestedBy: requestedBy)
            } else {
                try await actions.resume(jobId: jobId, maxFailed: maxFailed)
            }
        }
    }

    /// Starts the job that applies a preview (approved by `approver`, a named approver token's name)
    /// or reverts a job; returns its id. Throws ``APIRefusal`` when the job is not one that can be.
    func startNewJob(
        _ action: OperatorAction, _ jobId: String, approver: String?, generatedBy: String, overwriteChanged: Bool
    ) async throws -> String {
        guard let job = await board.backfill(jobId) else {
            throw APIRefusal(.notFound, "no backfill \(jobId) on the status topic")
        }
        guard action == .apply ? job.applicable : job.revertible else {
            throw APIRefusal(
                .conflict,
                action == .apply
                    ? "backfill \(jobId) is not a Completed preview waiting to be applied"
                    : "backfill \(jobId) cannot be reverted: it is not an ended job that changed records and was not reverted")
        }
        if action == .apply {
            guard let approver else {
                throw APIRefusal(.forbidden, "only a named approver token can apply a preview: its name is the approver's")
            }
            return try await actions.apply(
                jobId: jobId, approvedBy: approver, generatedBy: generatedBy, overwriteChanged: overwriteChanged)
        }
        return try await actions.revert(jobId: jobId, generatedBy: generatedBy, overwriteChanged: overwriteChanged)
    }

    /// Runs `record`, telling what became of the operator's request (`verb`) for `jobId`.
    func recorded(_ verb: String, _ jobId: String, _ record: () async throws -> Void) async -> CancelOutcome {
        do {
            try await record()
            return .requested
        } catch let refused as CancelRefused {
            return .refused(.conflict, "the \(verb) request was not taken: \(refused.reason)")
        } catch let refused as APIRefusal {
            return .refused(refused.status, refused.message)
        } catch {
            return .refused(
                .serviceUnavailable, "the \(verb) request for \(jobId) could not be recorded: \(error)")
        }
    }

    /// What became of a cancel request.
    enum CancelOutcome {
        case requested
        case refused(HTTPResponse.Status, String)
    }

    /// Checks that the job can be canceled and records the request.
    func requestCancel(_ jobId: String, requestedBy: String) async -> CancelOutcome {
        guard let job = await board.backfill(jobId) else {
            return .refused(.notFound, "no backfill \(jobId) on the status topic")
        }
        guard job.cancelable else {
            return .refused(
                .conflict, "backfill \(jobId) is \(job.status.rawValue); only a Pending, Processing or Paused job can be canceled"
            )
        }
        return await recorded(OperatorAction.cancel.verb, jobId) {
            try await actions.requestCancel(jobId: jobId, requestedBy: requestedBy)
        }
    }

    /// A browser's form post carries `Origin`; when it does, it must be this dashboard's own address.
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let authority = request.head.authority, let host = URL(string: origin)?.host else { return false }
        let port = URL(string: origin)?.port.map { ":\($0)" } ?? ""
        return host + port == authority
    }

    /// The name the operator gave when signing in, for the log's "requested by".
    static func operatorName(_ request: Request) -> String {
        let name = signedInName(request)
        return name.isEmpty ? "dashboard operator" : "\(name) (dashboard)"
    }

    /// The name as given when signing in (trimmed; empty when none): an approver's name, compared with
    /// the preview's Generated By.
    static func signedInName(_ request: Request) -> String {
        (request.cookies[SignIn.nameCookie]?.value.removingPercentEncoding ?? "").trimmingCharacters(in: .whitespaces)
    }
}
