import Foundation
import Hummingbird
import JobstreamMessages
import JobstreamMigration
import JobstreamStore
import JobstreamSync

/// The JSON API: the same three logs for scripts and other dashboards (documented in the README).
/// Tokens come as `Authorization: Bearer TOKEN`; errors are `{"error": "..."}` with the HTTP status.
extension Dashboard {
    struct BackfillList: Encodable { var backfills: [BackfillSummary] }
    struct MigrationList: Encodable { var migrations: [MigrationSummary] }
    struct SyncList: Encodable {
        var sessions: [SyncSessionSummary]
        /// How many sessions match the filter in all; `sessions` holds the newest `limit` of them.
        var matching: Int
    }

    struct MigrationDetail: Encodable {
        var migration: MigrationSummary
        var warnings: [MigrationWarning]
    }

    struct SyncDetail: Encodable {
        struct FailedRecord: Encodable {
            var objectType, objectId, errorCode: String
            var crmId, errorMessage: String?
            var retry: String
        }
        struct CrmIdChange: Encodable { var objectType, objectId, previousCrmId, newCrmId: String }
        var session: SyncSessionSummary
        var failedRecords: [FailedRecord]
        var crmIdChanges: [CrmIdChange]
    }

    func addAPI(to router: Router<DashboardRequestContext>) {
        let api = router.group("api")
        api.get("openapi.json") { _, _ in OpenAPIDocument.response() }
        addJobsAPI(to: api)
        addFollowingAPI(to: api)
        api.get("backfills") { request, _ in
            try await apiViewing(request) { Responses.json(BackfillList(backfills: await board.backfillList())) }
        }
        api.get("backfills/:job") { request, context in
            try await apiViewing(request) {
                let id = try Self.identifier(context, "job")
                guard let job = await board.backfill(id) else { return Responses.apiError(.notFound, "no backfill \(id)") }
                return Responses.json(job)
            }
        }
        api.get("migrations") { request, _ in
            try await apiViewing(request) { Responses.json(MigrationList(migrations: await board.migrationList())) }
        }
        api.get("migrations/:migration") { request, context in
            try await apiViewing(request) {
                let id = try Self.identifier(context, "migration")
                guard let migration = await board.migration(id) else {
                    return Responses.apiError(.notFound, "no migration \(id)")
                }
                let limit: Int
                do throws(FilterProblem) { limit = try Self.limit(request, name: "warnings", default: 100) } catch {
                    return Responses.apiError(.badRequest, error.description)
                }
                let warnings = try await MigrationLedger(store: store).warnings(id, limit: limit)
                return Responses.json(MigrationDetail(migration: migration, warnings: warnings))
            }
        }
        api.get("sync") { request, _ in
            try await apiViewing(request) {
                let query = request.uri.queryParameters
                do throws(FilterProblem) {
                    let filter = try SyncFilterQuery.parse(
                        from: query.get("from"), to: query.get("to"), operation: query.get("operation"))
                    let limit = try Self.limit(request, name: "limit", default: 1000, maximum: 100_000)
                    let (sessions, matching) = await board.syncHistory(filter, limit: limit)
                    return Responses.json(SyncList(sessions: sessions, matching: matching))
                } catch {
                    return Responses.apiError(.badRequest, error.description)
                }
            }
        }
        api.get("sync/:session") { request, context in
            try await apiViewing(request) {
                let id = try Self.identifier(context, "session")
                guard let session = await board.syncSession(id) else {
                    return Responses.apiError(.notFound, "no sync session \(id)")
                }
                let limit: Int
                do throws(FilterProblem) { limit = try Self.limit(request, name: "records", default: 100) } catch {
                    return Responses.apiError(.badRequest, error.description)
                }
                let query = SyncHistoryQuery(store: store)
                let failures = try await query.failedRecords(id, limit: limit).map {
                    SyncDetail.FailedRecord(
                        objectType: $0.objectType, objectId: $0.objectId, errorCode: $0.errorCode, crmId: $0.crmId,
                        errorMessage: $0.errorMessage, retry: $0.retryable ? "Automatic" : "Manual fix")
                }
                let changes = try await query.crmIdChanges(id, limit: limit).map {
                    SyncDetail.CrmIdChange(
                        objectType: $0.objectType, objectId: $0.objectId, previousCrmId: $0.previousCrmId,
                        newCrmId: $0.newCrmId)
                }
                return Responses.json(SyncDetail(session: session, failedRecords: failures, crmIdChanges: changes))
            }
        }
    }

    func apiViewing(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        guard access.mayView(access.role(of: request)) else {
            return Responses.apiError(.unauthorized, "viewing needs a token: send Authorization: Bearer TOKEN")
        }
        return try await body()
    }

    /// A positive count from the query string, at most `maximum`.
    static func limit(_ request: Request, name: String, default value: Int, maximum: Int = 10_000) throws(FilterProblem) -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return value }
        guard let number = Int(text), (1...maximum).contains(number) else {
            throw FilterProblem("\(name) \"\(text)\" is not a whole number from 1 to \(maximum)")
        }
        return number
    }
}
