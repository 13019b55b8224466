import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// The summaries and retry requests waiting to be published, read from and cleared in the sync
/// history (the `summary_pending` and `retry_pending` marks set by ``SyncHistoryLog``).
///
/// Clearing a mark checks the version that was published: a session that changed meanwhile stays
/// marked, so its newest summary is published after the one just sent, never before.
public struct SyncOutbox: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Sessions whose summary waits, with a known operation: those of `sessionIds`, or else any
    /// unchanged since `changedBefore` (a sweep for what a stopped recorder left).
    public func pendingSummaries(
        of sessionIds: [String]? = nil, changedBefore: Date? = nil,
        limit: Int = 1000
    ) async throws -> [SyncSessionRecord] {
        try await pending("summary_pending", of: sessionIds, changedBefore: changedBefore, limit: limit)
    }

    /// Sessions whose retry request waits.
    public func pendingRetries(
        of sessionIds: [String]? = nil, changedBefore: Date? = nil,
        limit: Int = 100
    ) async throws -> [SyncSessionRecord] {
        try await pending("retry_pending", of: sessionIds, changedBefore: changedBefore, limit: limit)
    }

    private func pending(
        _ mark: String, of sessionIds: [String]?, changedBefore: Date?, limit: Int
    ) async throws
        -> [SyncSessionRecord]
    {
        let flavor = store.flavor
        return try await store.withDatabase { database in
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: SyncSessionRecord.columns) FROM sync_sessions
                WHERE \(unsafeRaw: mark) = 1 AND operation IS NOT NULL
                """
            if let sessionIds {
                guard !sessionIds.isEmpty else { return [] }
                query += " AND session_id IN \(JSONRows.list(sessionIds, flavor: flavor))"
            }
            if let changedBefore {
                query += " AND changed_at < \(bind: changedBefore.epochMilliseconds)"
            }
            query += " ORDER BY changed_at LIMIT \(bind: limit)"
            return try await database.raw(query).all().map(SyncSessionRecord.init(row:))
        }
    }

    /// Clears the summary marks of the sessions published, where the version is still the one published.
    public func summariesPublished(_ sessions: [SyncSessionRecord]) async throws {
        try await clear("summary_pending", sessions)
    }

    /// Clears the retry marks of the sessions whose retry requests were published.
    public func retriesPublished(_ sessions: [SyncSessionRecord]) async throws {
        try await clear("retry_pending", sessions)
    }

    private func clear(_ mark: String, _ sessions: [SyncSessionRecord]) async throws {
        guard !sessions.isEmpty else { return }
        var rows = JSONRowsBuilder()
        for session in sessions {
            rows.startRow()
            rows.add(session.sessionId)
            rows.add(session.version)
        }
        let flavor = store.flavor
        try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE sync_sessions SET \(unsafeRaw: mark) = 0
                FROM \(JSONRows.source(rows.text, flavor: flavor))
                WHERE sync_sessions.session_id = e ->> 0 AND sync_sessions.version = CAST(e ->> 1 AS BIGINT)
                """
            ).run()
        }
    }

    /// The retry requests of a session that ended needing one: the whole session after a Failure, or
    /// its retryable failed records in parts of at most ``SyncRetryRequest/maxRecordsPerPart``.
    public func retryRequests(for session: SyncSessionRecord) async throws -> [SyncRetryRequest] {
        guard let operation = session.facts.operation else { return [] }
        if session.status == .failure {
            return [SyncRetryRequest(scope: .session, operation: operation)]
        }
        let records = try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT object_type, object_id FROM sync_records
                WHERE session_id = \(bind: session.sessionId) AND success = 0 AND retryable = 1
                ORDER BY object_type, object_id
                """
            ).all().map { row in
                SyncRetryRequest.Record(
                    objectType: try row.decode(column: "object_type", as: String.self),
                    objectId: try row.decode(column: "object_id", as: String.self))
            }
        }
        let parts = stride(from: 0, to: records.count, by: SyncRetryRequest.maxRecordsPerPart).map {
            Array(records[$0..<min($0 + SyncRetryRequest.maxRecordsPerPart, records.count)])
        }
        return parts.enumerated().map { index, part in
            SyncRetryRequest(scope: .records, operation: operation, records: part, part: index + 1, partCount: parts.count)
        }
    }
}
