import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// Reads the sync history: the filtered list, one session in detail, its failed records and its CRM
/// Id Change Results.
public struct SyncHistoryQuery: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// What the Sync History list filters on: a sync date range and an operation.
    public struct Filter: Sendable, Hashable {
        /// Sessions started on or after this day (UTC).
        public var from: CalendarDate?
        /// Sessions started on or before this day (UTC).
        public var to: CalendarDate?
        public var operation: SyncOperation?

        public init(from: CalendarDate? = nil, to: CalendarDate? = nil, operation: SyncOperation? = nil) {
            self.from = from
            self.to = to
            self.operation = operation
        }

        /// The range of `started_at` (epoch milliseconds) the dates select: from the first instant of
        /// `from` up to, not including, the day after `to` — whole UTC days.
        public var startedBounds: (from: Int?, before: Int?) {
            (from.map { $0.daysSinceEpoch * 86_400_000 }, to.map { ($0.daysSinceEpoch + 1) * 86_400_000 })
        }

        /// Whether a session that started at `startedAt` (epoch milliseconds, as the store keeps it) with
        /// `operation` is in the list: the database query's rule, for views kept in memory (the
        /// dashboard). A session whose operation has not been reported yet is not.
        public func includes(startedAt: Int, operation: SyncOperation?) -> Bool {
            guard let operation else { return false }
            if let wanted = self.operation, wanted != operation { return false }
            let bounds = startedBounds
            if let from = bounds.from, startedAt < from { return false }
            if let before = bounds.before, startedAt >= before { return false }
            return true
        }
    }

    /// Started sessions matching `filter`, newest first, at most `limit`. The indexes on
    /// `(started_at)` and `(operation, started_at)` serve the range and the order.
    public func history(_ filter: Filter, limit: Int = 50) async throws -> [SyncSessionRecord] {
        try await store.withDatabase { database in
            try await database.raw(Self.historyQuery(filter, limit: limit)).all().map(SyncSessionRecord.init(row:))
        }
    }

    /// The query plan of ``history(_:limit:)``, for the benchmark's record of which index served it.
    public func historyPlan(_ filter: Filter, limit: Int = 50) async throws -> String {
        let (explain, column) = store.flavor == .sqlite ? ("EXPLAIN QUERY PLAN ", "detail") : ("EXPLAIN ", "QUERY PLAN")
        return try await store.withDatabase { database in
            try await database.raw("\(unsafeRaw: explain)\(Self.historyQuery(filter, limit: limit))").all()
                .map { try $0.decode(column: column, as: String.self) }
                .joined(separator: "; ")
        }
    }

    /// The Sync History list's query; `to` includes its whole day.
    static func historyQuery(_ filter: Filter, limit: Int) -> SQLQueryString {
        var query: SQLQueryString = """
            SELECT \(unsafeRaw: SyncSessionRecord.columns) FROM sync_sessions WHERE started_at IS NOT NULL
            """
        if let operation = filter.operation { query += " AND operation = \(bind: operation.rawValue)" }
        let bounds = filter.startedBounds
        if let from = bounds.from { query += " AND started_at >= \(bind: from)" }
        if let before = bounds.before { query += " AND started_at < \(bind: before)" }
        query += " ORDER BY started_at DESC LIMIT \(bind: limit)"
        return query
    }

    /// One session, or nil if the history has no such session (never recorded, or deleted by retention).
    public func session(_ sessionId: String) async throws -> SyncSessionRecord? {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: SyncSessionRecord.columns) FROM sync_sessions WHERE session_id = \(bind: sessionId)
                """
            ).first().map(SyncSessionRecord.init(row:))
        }
    }

    /// A record that failed in a session, with its error.
    public struct FailedRecord: Sendable, Hashable {
        public var objectType: String
        public var objectId: String
        public var crmId: String?
        public var errorCode: String
        public var errorMessage: String?
        /// Whether the next session retries it by itself; false when it needs a manual fix.
        public var retryable: Bool
    }

    /// The session's failed records in object order, after `after` (for paging), at most `limit`.
    public func failedRecords(
        _ sessionId: String, after: (objectType: String, objectId: String)? = nil,
        limit: Int = 10_000
    ) async throws -> [FailedRecord] {
        try await store.withDatabase { database in
            var query: SQLQueryString = """
                SELECT object_type, object_id, crm_id, error_code, error_message, retryable FROM sync_records
                WHERE session_id = \(bind: sessionId) AND success = 0
                """
            if let after {
                query += """
                     AND (object_type > \(bind: after.objectType) OR (object_type = \(bind: after.objectType) \
                    AND object_id > \(bind: after.objectId)))
                    """
            }
            query += " ORDER BY object_type, object_id LIMIT \(bind: limit)"
            return try await database.raw(query).all().map { row in
                FailedRecord(
                    objectType: try row.decode(column: "object_type", as: String.self),
                    objectId: try row.decode(column: "object_id", as: String.self),
                    crmId: try row.decode(column: "crm_id", as: String?.self),
                    errorCode: try row.decode(column: "error_code", as: String?.self) ?? "",
                    errorMessage: try row.decode(column: "error_message", as: String?.self),
                    retryable: try row.decode(column: "retryable", as: Int.self) != 0)
            }
        }
    }

    /// A CRM Id Change Result of a session.
    public struct CrmIdChangeResult: Sendable, Hashable {
        public var objectType: String
        public var objectId: String
        public var previousCrmId: String
        public var newCrmId: String
    }

    /// The session's CRM Id Change Results in object order, at most `limit`.
    public func crmIdChanges(_ sessionId: String, limit: Int = 1000) async throws -> [CrmIdChangeResult] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT object_type, object_id, previous_crm_id, new_crm_id FROM sync_crm_id_changes
                WHERE session_id = \(bind: sessionId) ORDER BY object_type, object_id LIMIT \(bind: limit)
                """
            ).all().map { row in
                CrmIdChangeResult(
                    objectType: try row.decode(column: "object_type", as: String.self),
                    objectId: try row.decode(column: "object_id", as: String.self),
                    previousCrmId: try row.decode(column: "previous_crm_id", as: String.self),
                    newCrmId: try row.decode(column: "new_crm_id", as: String.self))
            }
        }
    }
}
