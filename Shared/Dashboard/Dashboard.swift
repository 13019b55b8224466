import Foundation
import HTTPTypes
import Hummingbird
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging

/// Records an operator's cancel, pause, resume, apply or revert of a backfill (``JobLogOperatorActions``: in the job
/// log, where the job's validator and the processors notice it); a seam so the routes can be tested
/// alone. Each throws ``CancelRefused`` when the log does not take the request, saying why.
public protocol BackfillOperatorActions: Sendable {
    func requestCancel(jobId: String, requestedBy: String) async throws
    func requestPause(jobId: String, requestedBy: String) async throws
    func resume(jobId: String) async throws
    /// Starts a job that applies the preview `jobId`, approved by `approvedBy`; returns its id.
    func apply(jobId: String, approvedBy: String, generatedBy: String) async throws -> String
    /// Starts a job that reverts `jobId`; returns its id.
    func revert(jobId: String, generatedBy: String) async throws -> String
}

/// Writes operators' requests into the backfill job log (``BackfillJobLog/cancel(_:by:)``,
/// ``BackfillJobLog/requestPause(_:by:)``, ``BackfillJobLog/resume(_:maxFailed:)``).
public struct JobLogOperatorActions: BackfillOperatorActions {
    let log: BackfillJobLog

    public init(store: Store) {
        log = BackfillJobLog(store: store)
    }

    public func requestCancel(jobId: String, requestedBy: String) async throws {
        switch try await log.cancel(jobId, by: requestedBy) {
        case .requested: return
        case .notFound: throw CancelRefused(reason: "backfill \(jobId) is not in the job log")
        case .ended(let status): throw CancelRefused(reason: "backfill \(jobId) is \(status.rawValue) already")
        }
    }

    public func requestPause(jobId: String, requestedBy: String) async throws {
        try Self.check(try await log.requestPause(jobId, by: requestedBy), jobId: jobId)
    }

    public func resume(jobId: String) async throws {
        try Self.check(try await log.resume(jobId, maxFailed: nil), jobId: jobId)
    }

    public func apply(jobId: String, approvedBy: String, generatedBy: String) async throws -> String {
        // The validator checks again, with its own approval rule, when it takes the job over.
        let preview = try await log.job(jobId)
        if let problem = BackfillJobLog.applyProblem(
            of: preview, id: jobId, by: nil, approvedBy: approvedBy, requireApproval: false)
        {
            throw CancelRefused(reason: problem)
        }
        return try await start(
            BackfillRequest(
                action: preview?.action ?? "", generatedBy: generatedBy, applies: jobId, approvedBy: approvedBy),
            previewed: preview, chunkSize: preview?.chunkSize)
    }

    public func revert(jobId: String, generatedBy: String) async throws -> String {
        if let problem = try await log.revertProblem(of: jobId) { throw CancelRefused(reason: problem) }
        let original = try await log.job(jobId)
        return try await start(
            BackfillRequest(action: original?.action ?? "", generatedBy: generatedBy, reverts: jobId), previewed: nil,
            chunkSize: original?.chunkSize)
    }

    /// Logs a new job whose claim has lapsed already: the dashboard has no Kafka producer, so the
    /// validators' orphan loop takes the job over within a third of a lease and runs it, and their
    /// outbox announces it. The validator checks the job again (approval, links) as it starts it.
    /// The new job's chunks are as large as those of the job it applies or reverts.
    private func start(_ request: BackfillRequest, previewed: BackfillJobRecord?, chunkSize: Int?) async throws -> String {
        let jobId = UUID().uuidString.lowercased()
        let job = BackfillJobRecord.accepted(
            request, jobId: jobId, submittedAt: Int(Date().timeIntervalSince1970 * 1000),
            chunkSize: chunkSize ?? 1000, owner: "dashboard", requireApproval: false,
            previewed: previewed)
        guard try await log.insert(job, leaseMilliseconds: 0) else {
            throw CancelRefused(reason: "a job with the id \(jobId) exists already; try again")
        }
        return jobId
    }

    private static func check(_ outcome: BackfillJobLog.HoldOutcome, jobId: String) throws {
        switch outcome {
        case .requested: return
        case .notFound: throw CancelRefused(reason: "backfill \(jobId) is not in the job log")
        case .refused(let why): throw CancelRefused(reason: why)
        }
    }
}

/// Why the job log did not take a cancel request.
public struct CancelRefused: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// The web dashboard of the three logs: pages, live updates, downloads and the JSON API over one
/// ``StatusBoard``, with details read from the store and result files from the file store.
public struct Dashboard: Sendable {
    public let board: StatusBoard
    public let access: DashboardAccess
    public let store: Store
    public let files: FileStore
    public let actions: any BackfillOperatorActions
    /// Seconds between keep-alive comments on a live-update stream.
    public var keepAliveInterval: Duration = .seconds(15)

    public init(
        board: StatusBoard, access: DashboardAccess, store: Store, files: FileStore,
        actions: any BackfillOperatorActions
    ) {
        self.board = board
        self.access = access
        self.store = store
        self.files = files
        self.actions = actions
    }

    /// Every route of the dashboard.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeaders())
        router.get("/") { _, _ in Response.redirect(to: "/backfills", type: .found) }
        router.get("/assets/dashboard.css") { _, _ in DashboardAssets.response(DashboardAssets.stylesheet, type: "text/css") }
        router.get("/assets/dashboard.js") { _, _ in DashboardAssets.response(DashboardAssets.script, type: "text/javascript") }
        router.get("/events") { request, _ in try await liveEvents(request) }
        addSignIn(to: router)
        addPages(to: router)
        addAPI(to: router)
        return router
    }

    /// A job, migration or session id from the path, percent-decoded (the router leaves it encoded).
    static func identifier(_ context: BasicRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}

/// Headers on every response: no inline or foreign script can run (Content-Security-Policy), no
/// page can be framed, no content type is guessed.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        // "same-origin", not "no-referrer": with no-referrer a browser sends `Origin: null` on the
        // dashboard's own form posts, and the Cancel form's origin check could not tell them from another site's.
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }
}
