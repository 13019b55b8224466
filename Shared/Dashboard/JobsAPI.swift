import Foundation
import HTTPTypes
import Hummingbird
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamStore

/// The API's actions on jobs (documented in `openapi.json`): submit a backfill with its file as the
/// body, act on a backfill (apply, pause, resume, rate, cancel, revert, retry), start a migration.
/// Each needs a token of the role it names and goes to the audit trail, taken or refused.
extension Dashboard {
    /// The answer to an action that started a job or changed one: `202 Accepted`.
    struct ActionAnswer: Encodable {
        var jobId: String
        var kind: String
        /// What was asked, e.g. `submit`, `apply`, `pause`.
        var action: String
        /// Who the job log names as having asked (`requestedBy` too, as the cancel answer always had it).
        var by: String
        var requestedBy: String
        /// `submit requested`, `cancel requested`, …
        var status: String
        /// The job acted on, when the action started a new one (apply, revert, retry).
        var of: String?
        /// Where to read the job, and to follow its changes.
        var details: String
        var events: String
    }

    /// The JSON bodies the actions take (all optional): unknown fields are ignored.
    struct ActionBody: Decodable {
        var overwriteChanged: Bool?
        var maxFailed: String?
        var rowsPerSecond: Int?
        var requestedBy: String?
        var cutoverDate: String?
        var preview: Bool?
    }

    /// The most bytes of a JSON body.
    static let actionBodyBytes = 16 * 1024

    /// What an API action of a backfill asks, and the role it needs.
    enum BackfillAPIAction: String, CaseIterable {
        case apply, pause, resume, rate, cancel, revert, retry

        var role: DashboardAccess.Role { self == .apply ? .approver : .operator }
    }

    func addJobsAPI(to api: RouterGroup<DashboardRequestContext>) {
        api.post("backfills") { request, context in
            try await submitFromAPI(request, context: context)
        }
        for action in BackfillAPIAction.allCases {
            api.post("backfills/:job/\(action.rawValue)") { request, context in
                try await backfillActionFromAPI(action, request, context: context, jobId: try Self.identifier(context, "job"))
            }
        }
        api.post("migrations") { request, context in
            try await startMigrationFromAPI(request, context: context)
        }
    }

    /// Checks the request's token for an action needing `role`; the refusal is audited and returned.
    func caller(
        _ request: Request, context: DashboardRequestContext, needs role: DashboardAccess.Role, action: String,
        target: (kind: String, id: String?)
    ) async -> Result<DashboardAccess.Identity, Refusal> {
        let identity = access.identity(of: request)
        let refusal: CancelOutcome? =
            if !access.actionsEnabled {
                .refused(.forbidden, "actions are off: this dashboard has no operator token configured")
            } else if identity.role == .anonymous {
                .refused(.unauthorized, "\(action) needs a token: send Authorization: Bearer TOKEN")
            } else if identity.role < role {
                .refused(
                    .forbidden,
                    role == .approver
                        ? "only a named approver token can \(action); this is \(identity.name.map { "\($0)'s \(identity.role.name) token" } ?? "a shared token")"
                        : "a \(identity.role.name) token cannot \(action); it needs an operator's")
            } else if !Self.isSameOrigin(request) {
                .refused(.forbidden, "cross-origin requests cannot \(action)")
            } else {
                nil
            }
        guard let refusal else { return .success(identity) }
        await audit(
            identity, actor: Self.actorName(identity, fallback: "(no named token)"), action: "\(target.kind).\(action)",
            target: target, outcome: refusal, detail: nil, request: request, context: context)
        return .failure(Refusal(refusal))
    }

    /// A refusal as an error value, for ``caller(_:context:needs:action:target:)``.
    struct Refusal: Error {
        let outcome: CancelOutcome
        init(_ outcome: CancelOutcome) { self.outcome = outcome }
        var response: Response {
            switch outcome {
            case .requested: Responses.apiError(.internalServerError, "no refusal")
            case .refused(let status, let message): Responses.apiError(status, message)
            }
        }
    }

    /// Reads an optional JSON body of an action.
    static func actionBody(_ request: inout Request) async throws -> ActionBody? {
        let body = try await request.collectBody(upTo: actionBodyBytes)
        guard body.readableBytes > 0 else { return ActionBody() }
        return try? JSONDecoder().decode(ActionBody.self, from: Data(buffer: body))
    }

    // MARK: Submit

    /// `POST /api/backfills?action=…[&filename=…][&preview=true][&maxFailed=…][&rate=…][&md5=…]` with
    /// the file as the body (none for a file-less action).
    func submitFromAPI(_ request: Request, context: DashboardRequestContext) async throws -> Response {
        let jobId = UUID().uuidString.lowercased()
        let target = (kind: "backfill", id: Optional(jobId))
        let identity: DashboardAccess.Identity
        switch await caller(request, context: context, needs: .operator, action: "submit", target: target) {
        case .failure(let refusal): return refusal.response
        case .success(let found): identity = found
        }
        let query = request.uri.queryParameters
        let actor = Self.actorName(identity, fallback: "dashboard API")
        var detail = "action \(query.get("action")?.prefix(64) ?? "(none)")"
        func refuse(_ status: HTTPResponse.Status, _ message: String) async -> Response {
            await audit(
                identity, actor: actor, action: "backfill.submit", target: target, outcome: .refused(status, message),
                detail: detail, request: request, context: context)
            return Responses.apiError(status, message)
        }
        let parsed: BackfillRequest
        do { parsed = try Self.submission(query, generatedBy: actor) } catch let refusal as UploadReceiver.Refusal {
            return await refuse(refusal.status, refusal.message)
        }
        var backfill = parsed
        if let name = query.get("filename") {
            detail += ", file \(name.prefix(120))"
            do {
                let md5 = try UploadReceiver.md5(header: request.headers[HTTPField.Name("Content-MD5")!], query: query.get("md5"))
                backfill.file = try await UploadReceiver(files: files, maximumBytes: maximumUploadBytes).receive(
                    request.body, name: name, jobId: jobId,
                    declaredLength: request.headers[.contentLength].flatMap { Int64($0) }, md5Hex: md5)
                backfill.md5 = md5
            } catch let refusal as UploadReceiver.Refusal {
                return await refuse(refusal.status, refusal.message)
            }
            detail += " (\(backfill.file?.sizeBytes ?? 0) bytes)"
        }
        if backfill.preview == true { detail += ", preview" }
        return await logNewJob(
            identity, actor: actor, action: "submit", target: target, detail: detail, request: request, context: context
        ) {
            try await actions.submit(backfill, jobId: jobId)
            return jobId
        }
    }

    /// The request a submission's query describes, checked as a request from the topic would be.
    static func submission(_ query: Parameters, generatedBy: String) throws -> BackfillRequest {
        func refused(_ message: String) -> UploadReceiver.Refusal {
            UploadReceiver.Refusal(status: .badRequest, message: message)
        }
        guard let actionName = query.get("action"), !actionName.isEmpty else {
            throw refused("action is missing: one of \(BackfillAction.all.map(\.name).joined(separator: ", "))")
        }
        guard let action = BackfillAction.named(actionName) else {
            throw refused("\(UnknownAction(name: actionName))")
        }
        let filename = query.get("filename")
        if action.needsFile {
            guard let filename else { throw refused("\(action.name) needs a file: send it as the body, named by filename") }
            if let problem = UploadReceiver.nameProblem(filename) { throw refused(problem) }
        } else if filename != nil {
            throw refused("\(action.name) takes no file; leave out filename and the body")
        }
        let preview = try flag(query, "preview")
        let maxFailed = query.get("maxFailed")
        if let maxFailed, case .failure(let problem) = FailureBrake.parse(maxFailed) { throw refused("maxFailed: \(problem)") }
        var rate: Int?
        if let text = query.get("rate") {
            guard let value = Int(text), value >= 1 else {
                throw refused("rate \(Quoted(text)) is not a whole number of at least 1")
            }
            rate = value
        }
        var request = BackfillRequest(
            action: action.name, generatedBy: generatedBy, maxFailed: maxFailed, ratePerSecond: rate,
            preview: preview ? true : nil)
        let webhooks = query.getAll("webhook")
        if !webhooks.isEmpty { request.webhooks = webhooks }
        if let problem = request.boundsProblem { throw refused(problem) }
        return request
    }

    /// A `true` / `false` query value (absent: false).
    static func flag(_ query: Parameters, _ name: String) throws -> Bool {
        guard let text = query.get(name) else { return false }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw UploadReceiver.Refusal(status: .badRequest, message: "\(name) \(Quoted(text)) is not true or false")
        }
    }

    /// Logs a new job through `start` (which returns its id), audits the outcome and answers.
    func logNewJob(
        _ identity: DashboardAccess.Identity, actor: String, action: String, target: (kind: String, id: String?),
        of original: String? = nil, detail: String?, request: Request, context: DashboardRequestContext,
        start: () async throws -> String
    ) async -> Response {
        var newId: String?
        let outcome = await recorded(action, target.id ?? "") { newId = try await start() }
        var detail = detail
        if original != nil, let newId {
            detail = [detail, "started \(target.kind) \(newId)"].compactMap { $0 }.joined(separator: ", ")
        }
        await audit(
            identity, actor: actor, action: "\(target.kind).\(action)", target: (target.kind, original ?? newId ?? target.id),
            outcome: outcome, detail: detail, request: request, context: context)
        switch outcome {
        case .refused(let status, let message): return Responses.apiError(status, message)
        case .requested:
            let id = newId ?? ""
            let base = target.kind == "migration" ? "/api/migrations/" : "/api/backfills/"
            return Responses.json(
                ActionAnswer(
                    jobId: id, kind: target.kind, action: action, by: actor, requestedBy: actor,
                    status: "\(action) requested", of: original,
                    details: base + PageLayout.pathSegment(id), events: base + PageLayout.pathSegment(id) + "/events"),
                status: .accepted)
        }
    }

    // MARK: Actions on a backfill

    func backfillActionFromAPI(
        _ action: BackfillAPIAction, _ request: Request, context: DashboardRequestContext, jobId: String
    ) async throws -> Response {
        let target = (kind: "backfill", id: Optional(jobId))
        let identity: DashboardAccess.Identity
        switch await caller(request, context: context, needs: action.role, action: action.rawValue, target: target) {
        case .failure(let refusal): return refusal.response
        case .success(let found): identity = found
        }
        var request = request
        let body = try await Self.actionBody(&request)
        var actor = Self.actorName(identity, fallback: "dashboard API")
        if identity.name == nil, let given = body?.requestedBy?.trimmingCharacters(in: .whitespacesAndNewlines), !given.isEmpty {
            // Only the shared operator token may say who it is; a named token is its name.
            actor = String(given.prefix(SignIn.maximumNameLength))
        }
        guard let body else {
            let outcome = CancelOutcome.refused(.badRequest, "the body is not a JSON object of this action's fields")
            await audit(
                identity, actor: actor, action: "backfill.\(action.rawValue)", target: target, outcome: outcome, detail: nil,
                request: request, context: context)
            return Refusal(outcome).response
        }
        let overwrite = body.overwriteChanged == true
        switch action {
        case .apply, .revert, .retry:
            return await logNewJob(
                identity, actor: actor, action: action.rawValue, target: target, of: jobId,
                detail: overwrite ? "overwrite changed" : nil, request: request, context: context
            ) {
                switch action {
                case .apply:
                    try await startNewJob(.apply, jobId, approver: identity.name, generatedBy: actor, overwriteChanged: overwrite)
                case .revert:
                    try await startNewJob(.revert, jobId, approver: nil, generatedBy: actor, overwriteChanged: overwrite)
                default: try await retry(jobId, generatedBy: actor)
                }
            }
        case .pause, .resume, .rate, .cancel:
            var detail: String?
            let outcome: CancelOutcome
            switch action {
            case .cancel: outcome = await requestCancel(jobId, requestedBy: actor)
            case .pause: outcome = await requestHold(.pause, jobId, requestedBy: actor, maxFailed: nil)
            case .resume:
                detail = body.maxFailed.map { "max failed \($0.prefix(24))" }
                outcome = await requestHold(.resume, jobId, requestedBy: actor, maxFailed: body.maxFailed)
            default:
                detail = body.rowsPerSecond.map { "\($0) rows/s" } ?? "no limit"
                outcome = await requestRate(jobId, rowsPerSecond: body.rowsPerSecond)
            }
            await audit(
                identity, actor: actor, action: "backfill.\(action.rawValue)", target: target, outcome: outcome,
                detail: detail, request: request, context: context)
            switch outcome {
            case .refused(let status, let message): return Responses.apiError(status, message)
            case .requested:
                let base = "/api/backfills/" + PageLayout.pathSegment(jobId)
                return Responses.json(
                    ActionAnswer(
                        jobId: jobId, kind: "backfill", action: action.rawValue, by: actor, requestedBy: actor,
                        status: "\(action.rawValue) requested", of: nil, details: base,
                        events: base + "/events"),
                    status: .accepted)
            }
        }
    }

    /// Sets a job's rate limit, as ``requestHold(_:_:requestedBy:maxFailed:)`` does a pause.
    func requestRate(_ jobId: String, rowsPerSecond: Int?) async -> CancelOutcome {
        guard let job = await board.backfill(jobId) else {
            return .refused(.notFound, "no backfill \(jobId) on the status topic")
        }
        guard !job.status.isTerminal else {
            return .refused(.conflict, "backfill \(jobId) is \(job.status.rawValue); only a job that has not ended takes a rate")
        }
        if let rowsPerSecond, rowsPerSecond < 1 {
            return .refused(.badRequest, "rowsPerSecond \(rowsPerSecond) is below 1; send null to lift the limit")
        }
        return await recorded("rate", jobId) { try await actions.setRate(jobId: jobId, rowsPerSecond: rowsPerSecond) }
    }

    /// Starts a backfill of only the rows of `jobId` that failed or were not processed: they are
    /// picked out of its result file into a new upload.
    func retry(_ jobId: String, generatedBy: String) async throws -> String {
        guard let job = await board.backfill(jobId) else {
            throw APIRefusal(.notFound, "no backfill \(jobId) on the status topic")
        }
        guard !job.preview else {
            throw APIRefusal(
                .conflict, "backfill \(jobId) is a preview and applied nothing: apply it, or fix the file and preview it again")
        }
        guard job.status.isTerminal, let resultPath = job.resultPath else {
            throw APIRefusal(
                .conflict,
                "backfill \(jobId) is \(job.status.rawValue)\(job.status.isTerminal ? " and has no result file" : ""); only a finished job with a result file can be retried"
            )
        }
        let newId = UUID().uuidString.lowercased()
        let stem = ((job.uploadedFile ?? "backfill.csv") as NSString).deletingPathExtension
        let name = "\(stem)-retry.csv"
        let place = try files.place(["uploads", newId, name])
        let result = try await files.fetch(resultPath, forJob: newId)
        let failed = try withExtendedLifetime(result) {
            try FailedRows.extract(fromResult: result.readableURL, to: place.url)
        }
        let size = UploadedFile.size(of: place.url)
        guard failed > 0 else {
            try? FileManager.default.removeItem(at: place.url)
            throw APIRefusal(.conflict, "backfill \(jobId) has no failed rows to retry")
        }
        try await files.publish(place.url, as: place)
        try await actions.submit(
            BackfillRequest(
                action: job.action, file: FileReference(path: place.relative, name: name, sizeBytes: size),
                generatedBy: generatedBy, retryOf: jobId),
            jobId: newId)
        return newId
    }

    // MARK: Migrations

    /// `POST /api/migrations` with `{"cutoverDate": "YYYY-MM-DD", "preview": false}`.
    func startMigrationFromAPI(_ request: Request, context: DashboardRequestContext) async throws -> Response {
        let migrationId = UUID().uuidString.lowercased()
        let target = (kind: "migration", id: Optional(migrationId))
        let identity: DashboardAccess.Identity
        switch await caller(request, context: context, needs: .operator, action: "start", target: target) {
        case .failure(let refusal): return refusal.response
        case .success(let found): identity = found
        }
        var request = request
        let actor = Self.actorName(identity, fallback: "dashboard API")
        let body = try await Self.actionBody(&request)
        guard let text = body?.cutoverDate, let cutover = CalendarDate(text) else {
            let outcome = CancelOutcome.refused(
                .badRequest, "the body needs cutoverDate, a date written YYYY-MM-DD: {\"cutoverDate\": \"2026-01-01\"}")
            await audit(
                identity, actor: actor, action: "migration.start", target: target, outcome: outcome, detail: nil,
                request: request, context: context)
            return Refusal(outcome).response
        }
        let preview = body?.preview == true
        return await logNewJob(
            identity, actor: actor, action: "start", target: target,
            detail: "cutover \(cutover)\(preview ? ", preview" : "")", request: request, context: context
        ) {
            try await actions.startMigration(
                MigrationRequest(cutoverDate: cutover, generatedBy: actor, preview: preview ? true : nil),
                migrationId: migrationId)
            return migrationId
        }
    }
}

/// A refusal of the API with its status, thrown from inside an action.
struct APIRefusal: Error {
    let status: HTTPResponse.Status
    let message: String
    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
