import Foundation
import HTTPTypes
import Hummingbird
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging

/// The web dashboard of the three logs: pages, live updates, downloads and the JSON API over one
/// ``StatusBoard``, with details read from the store and result files from the file store.
public struct Dashboard: Sendable {
    public let board: StatusBoard
    public let access: DashboardAccess
    public let store: Store
    public let files: FileStore
    public let actions: any OperatorActions
    /// Seconds between keep-alive comments on a live-update stream.
    public var keepAliveInterval: Duration = .seconds(15)
    /// The most bytes a file submitted over the API may have.
    public var maximumUploadBytes: Int64 = FileLimits.standard.fileBytes

    public init(
        board: StatusBoard, access: DashboardAccess, store: Store, files: FileStore,
        actions: any OperatorActions
    ) {
        self.board = board
        self.access = access
        self.store = store
        self.files = files
        self.actions = actions
    }

    /// Every route of the dashboard.
    public func router() -> Router<DashboardRequestContext> {
        let router = Router(context: DashboardRequestContext.self)
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
    static func identifier(_ context: DashboardRequestContext, _ name: String) throws -> String {
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
