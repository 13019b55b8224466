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

    /// The conditions of a session retention deletes as of `cutoff` (epoch ms): finished before it
    /// with nothing waiting to be published, or never finished and unchanged since before it.
    private static func expired(cutoff: Int) -> (finished: SQLQueryString, abandoned: SQLQueryString) {
        (
            "finished_at < \(bind: cutoff) AND summary_pending = 0 AND retry_pending = 0",
            "changed_at < \(bind: cutoff) AND finished_at IS NULL AND (summary_pending = 0 OR operation IS NULL)"
        )
    }

    /// Up to `limit` sessions to delete as of `now`.
    public func expiredSessions(now: Date, limit: Int = 1000) async throws -> [String] {
        let (finished, abandoned) = Self.expired(cutoff: cutoff(now: now).epochMilliseconds)
        return try await store.withDatabase { database in
            let ended = try await database.raw("SELECT session_id FROM sync_sessions WHERE \(finished) LIMIT \(bind: limit)")
                .all()
            let left = try await database.raw("SELECT session_id FROM sync_sessions WHERE \(abandoned) LIMIT \(bind: limit)")
                .all()
            return try (ended + left).map { try $0.decode(column: "session_id", as: String.self) }
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

    /// Deletes those of `sessionIds` that are still expired as of `now`, with their detail rows, in one
    /// transaction. A session that changed since it was chosen (an event arrived) is kept, and its
    /// summary marked to be published again, so it follows any tombstone already sent for it.
    public func delete(_ sessionIds: [String], now: Date = Date()) async throws -> Deleted {
        guard !sessionIds.isEmpty else { return Deleted() }
        let flavor = store.flavor
        let (finished, abandoned) = Self.expired(cutoff: cutoff(now: now).epochMilliseconds)
        return try await store.transaction { database in
            let chosen: SQLQueryString = "session_id IN \(JSONRows.list(sessionIds, flavor: flavor))"
            let gone = try await database.raw(
                """
                DELETE FROM sync_sessions WHERE \(chosen) AND ((\(finished)) OR (\(abandoned))) RETURNING session_id
                """
            ).all().map { try $0.decode(column: "session_id", as: String.self) }
            let kept = Set(sessionIds).subtracting(gone)
            if !kept.isEmpty {
                try await database.raw(
                    """
                    UPDATE sync_sessions SET summary_pending = 1
                    WHERE session_id IN \(JSONRows.list(Array(kept), flavor: flavor)) AND operation IS NOT NULL
                    """
                ).run()
            }
            var deleted = Deleted(sessions: gone.count)
            guard !gone.isEmpty else { return deleted }
            let deleting: SQLQueryString = "session_id IN \(JSONRows.list(gone, flavor: flavor))"
            func delete(from table: String) async throws -> Int {
                let count =
                    try await database.raw("SELECT COUNT(*) AS n FROM \(ident: table) WHERE \(deleting)").first()?
                    .decode(column: "n", as: Int.self) ?? 0
                try await database.raw("DELETE FROM \(ident: table) WHERE \(deleting)").run()
                return count
            }
            deleted.crmIdChanges = try await delete(from: "sync_crm_id_changes")
            deleted.records = try await delete(from: "sync_records")
            return deleted
        }
    }
}
