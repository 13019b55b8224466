import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// Which sessions the sync history no longer keeps, and deleting them with their detail rows.
///
/// As the Sync History page says: a session whose finish date is on or before today minus `days`
/// (UTC) is deleted, together with its record outcomes and its CRM Id Change Results. A session that
/// never finished and has not changed for as long goes too. Sessions whose summary or retry request
/// is still waiting to be published are kept until it is, so no summary can follow the tombstone.
public struct SyncRetention: Sendable {
    public let store: Store
    public let days: Int

    public init(store: Store, days: Int) {
        self.store = store
        self.days = days
    }

    /// The first instant kept: midnight UTC, `days - 1` days before today. Anything before it
    /// finished on or before today minus `days`.
    public func cutoff(now: Date) -> Date {
        let today = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
        return Date(timeIntervalSince1970: Double(today - (days - 1)) * 86_400)
    }

    /// Up to `limit` sessions to delete as of `now`.
    public func expiredSessions(now: Date, limit: Int = 1000) async throws -> [String] {
        let cutoff = epochMilliseconds(cutoff(now: now))
        return try await store.withDatabase { database in
            let finished = try await database.raw("""
                SELECT session_id FROM sync_sessions
                WHERE finished_at < \(bind: cutoff) AND summary_pending = 0 AND retry_pending = 0
                LIMIT \(bind: limit)
                """).all()
            let abandoned = try await database.raw("""
                SELECT session_id FROM sync_sessions
                WHERE changed_at < \(bind: cutoff) AND finished_at IS NULL AND (summary_pending = 0 OR operation IS NULL)
                LIMIT \(bind: limit)
                """).all()
            return try (finished + abandoned).map { try $0.decode(column: "session_id", as: String.self) }
        }
    }

    /// What a deletion removed.
    public struct Deleted: Sendable, Hashable {
        public var sessions = 0
        public var records = 0
        public var crmIdChanges = 0

        public init(sessions: Int = 0, records: Int = 0, crmIdChanges: Int = 0) {
            self.sessions = sessions
            self.records = records
            self.crmIdChanges = crmIdChanges
        }
    }

    /// Deletes the sessions and their detail rows in one transaction.
    public func delete(_ sessionIds: [String]) async throws -> Deleted {
        guard !sessionIds.isEmpty else { return Deleted() }
        let flavor = store.flavor
        let chosen: SQLQueryString = "session_id IN \(JSONRows.list(sessionIds, flavor: flavor))"
        return try await store.transaction { database in
            func delete(from table: String) async throws -> Int {
                let count = try await database.raw("SELECT COUNT(*) AS n FROM \(ident: table) WHERE \(chosen)").first()?
                    .decode(column: "n", as: Int.self) ?? 0
                try await database.raw("DELETE FROM \(ident: table) WHERE \(chosen)").run()
                return count
            }
            var deleted = Deleted()
            deleted.crmIdChanges = try await delete(from: "sync_crm_id_changes")
            deleted.records = try await delete(from: "sync_records")
            deleted.sessions = try await delete(from: "sync_sessions")
            return deleted
        }
    }
}
