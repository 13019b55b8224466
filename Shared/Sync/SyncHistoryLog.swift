import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// Records sync events in the sync history, durably and idempotently.
///
/// One transaction per consumed batch: the session facts are merged (first value wins), each record
/// outcome is inserted once (a repeated one is a duplicate event and changes nothing), the counts grow
/// by what was actually inserted, and each touched session's status is derived again from its facts.
/// Any number of recorders may share one PostgreSQL database: the inserts and increments are safe under
/// concurrent transactions, and a session's row is locked while its status is derived.
public struct SyncHistoryLog: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// What recording a batch changed.
    public struct Applied: Sendable {
        /// Every session the batch mentioned.
        public var sessions: [String]
        /// Sessions whose status became Finished, Finished with Errors or Failure in this batch.
        public var ended: [String]
        /// Outcomes inserted (duplicates excluded).
        public var outcomesRecorded: Int
    }

    /// Records `batch` in one transaction.
    public func apply(_ batch: SyncEventBatch, now: Date = Date()) async throws -> Applied {
        guard !batch.isEmpty else { return Applied(sessions: [], ended: [], outcomesRecorded: 0) }
        let flavor = store.flavor
        let sessionIds = batch.facts.keys.sorted()  // one lock order for every recorder: no deadlock
        let changedAt = now.epochMilliseconds
        return try await store.transaction { database in
            try await Self.mergeFacts(batch, sessionIds: sessionIds, changedAt: changedAt, flavor: flavor, in: database)
            var increments = try await Self.insertOutcomes(batch.outcomes, flavor: flavor, in: database)
            for (session, changes) in try await Self.insertCrmIdChanges(batch.outcomes, flavor: flavor, in: database) {
                increments[session, default: Increment()].crmIdChanges += changes
            }
            try await Self.addCounts(increments, flavor: flavor, in: database)
            let ended = try await Self.deriveStatuses(sessionIds, flavor: flavor, in: database)
            return Applied(
                sessions: sessionIds, ended: ended,
                outcomesRecorded: increments.values.reduce(0) { $0 + $1.synced + $1.failed })
        }
    }

    /// Counts to add to one session.
    struct Increment {
        var synced = 0
        var failed = 0
        var toRetry = 0
        var crmIdChanges = 0
    }

    /// Creates missing session rows and fills facts not known yet.
    static func mergeFacts(
        _ batch: SyncEventBatch, sessionIds: [String], changedAt: Int, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws {
        var rows = JSONRowsBuilder(reservingBytes: sessionIds.count * 120)
        for id in sessionIds {
            let facts = batch.facts[id]!
            rows.startRow()
            rows.add(id)
            rows.add(facts.operation?.rawValue)
            rows.add(facts.startedAt.map { $0.epochMilliseconds })
            rows.add(facts.finishReportedAt.map { $0.epochMilliseconds })
            rows.add(facts.recordsExpected)
            rows.add(facts.failedAt.map { $0.epochMilliseconds })
            rows.add(facts.failure?.rawValue)
            rows.add(facts.failureReason)
        }
        try await database.raw(
            """
            INSERT INTO sync_sessions (session_id, operation, started_at, finish_reported_at, records_expected, failed_at,
                failure_kind, failure_reason, status, changed_at)
            SELECT e ->> 0, e ->> 1, CAST(e ->> 2 AS BIGINT), CAST(e ->> 3 AS BIGINT), CAST(e ->> 4 AS BIGINT),
                CAST(e ->> 5 AS BIGINT), e ->> 6, e ->> 7, \(bind: SyncSessionStatus.running.rawValue), \(bind: changedAt)
            FROM \(JSONRows.source(rows.text, flavor: flavor)) WHERE true
            ON CONFLICT (session_id) DO UPDATE SET
                operation = COALESCE(sync_sessions.operation, excluded.operation),
                started_at = COALESCE(sync_sessions.started_at, excluded.started_at),
                finish_reported_at = COALESCE(sync_sessions.finish_reported_at, excluded.finish_reported_at),
                records_expected = COALESCE(sync_sessions.records_expected, excluded.records_expected),
                failure_kind = CASE WHEN sync_sessions.failed_at IS NULL THEN excluded.failure_kind ELSE sync_sessions.failure_kind END,
                failure_reason = CASE WHEN sync_sessions.failed_at IS NULL THEN excluded.failure_reason ELSE sync_sessions.failure_reason END,
                failed_at = COALESCE(sync_sessions.failed_at, excluded.failed_at),
                changed_at = excluded.changed_at
            """
        ).run()
    }

    /// Inserts the outcomes not recorded yet; returns the counts each session gained.
    static func insertOutcomes(
        _ outcomes: [SessionRecordOutcome], flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> [String: Increment] {
        guard !outcomes.isEmpty else { return [:] }
        var rows = JSONRowsBuilder(reservingBytes: outcomes.count * 120)
        for entry in outcomes {
            let outcome = entry.outcome
            rows.startRow()
            rows.add(entry.sessionId)
            rows.add(outcome.objectType)
            rows.add(outcome.objectId)
            rows.add(outcome.success)
            rows.add(outcome.crmId)
            rows.add(outcome.success ? nil : outcome.errorCode)
            rows.add(outcome.success ? nil : outcome.errorMessage)
            rows.add(!outcome.success && outcome.retryable)
        }
        let inserted = try await database.raw(
            """
            INSERT INTO sync_records (session_id, object_type, object_id, success, crm_id, error_code, error_message, retryable)
            SELECT e ->> 0, e ->> 1, e ->> 2, CAST(e ->> 3 AS SMALLINT), e ->> 4, e ->> 5, e ->> 6, CAST(e ->> 7 AS SMALLINT)
            FROM \(JSONRows.source(rows.text, flavor: flavor)) WHERE true
            ON CONFLICT (session_id, object_type, object_id) DO NOTHING
            RETURNING session_id, success, retryable
            """
        ).all()
        var increments: [String: Increment] = [:]
        for row in inserted {
            let session = try row.decode(column: "session_id", as: String.self)
            if try row.decode(column: "success", as: Int.self) != 0 {
                increments[session, default: Increment()].synced += 1
            } else {
                increments[session, default: Increment()].failed += 1
                if try row.decode(column: "retryable", as: Int.self) != 0 {
                    increments[session, default: Increment()].toRetry += 1
                }
            }
        }
        return increments
    }

    /// Inserts the CRM Id Change Results not recorded yet; returns how many each session gained.
    static func insertCrmIdChanges(
        _ outcomes: [SessionRecordOutcome], flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> [String: Int] {
        var rows = JSONRowsBuilder()
        for entry in outcomes {
            guard let change = entry.outcome.crmIdChange else { continue }
            rows.startRow()
            rows.add(entry.sessionId)
            rows.add(entry.outcome.objectType)
            rows.add(entry.outcome.objectId)
            rows.add(change.previousCrmId)
            rows.add(change.newCrmId)
        }
        guard rows.rowCount > 0 else { return [:] }
        let inserted = try await database.raw(
            """
            INSERT INTO sync_crm_id_changes (session_id, object_type, object_id, previous_crm_id, new_crm_id)
            SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, e ->> 4 FROM \(JSONRows.source(rows.text, flavor: flavor)) WHERE true
            ON CONFLICT (session_id, object_type, object_id) DO NOTHING
            RETURNING session_id
            """
        ).all()
        var counts: [String: Int] = [:]
        for row in inserted {
            counts[try row.decode(column: "session_id", as: String.self), default: 0] += 1
        }
        return counts
    }

    static func addCounts(_ increments: [String: Increment], flavor: SQLFlavor, in database: any SQLDatabase) async throws {
        guard !increments.isEmpty else { return }
        var rows = JSONRowsBuilder()
        for (session, increment) in increments.sorted(by: { $0.key < $1.key }) {
            rows.startRow()
            rows.add(session)
            rows.add(increment.synced)
            rows.add(increment.failed)
            rows.add(increment.toRetry)
            rows.add(increment.crmIdChanges)
        }
        try await database.raw(
            """
            UPDATE sync_sessions SET records_synced = records_synced + CAST(e ->> 1 AS BIGINT),
                records_failed = records_failed + CAST(e ->> 2 AS BIGINT),
                records_to_retry = records_to_retry + CAST(e ->> 3 AS BIGINT),
                crm_id_changes = crm_id_changes + CAST(e ->> 4 AS BIGINT)
            FROM \(JSONRows.source(rows.text, flavor: flavor)) WHERE sync_sessions.session_id = e ->> 0
            """
        ).run()
    }

    /// Derives each session's status from its facts, and marks its summary (and, when it just ended
    /// needing one, its retry request) for publishing. Returns the sessions that ended.
    static func deriveStatuses(_ sessionIds: [String], flavor: SQLFlavor, in database: any SQLDatabase) async throws -> [String] {
        let current = try await database.raw(
            """
            SELECT \(unsafeRaw: SyncSessionRecord.columns) FROM sync_sessions
            WHERE session_id IN \(JSONRows.list(sessionIds, flavor: flavor))
            """
        ).all().map(SyncSessionRecord.init(row:))
        var rows = JSONRowsBuilder()
        var ended: [String] = []
        for session in current {
            let status = session.facts.status
            let endedNow = status != session.status && status.isTerminal
            if endedNow { ended.append(session.sessionId) }
            rows.startRow()
            rows.add(session.sessionId)
            rows.add(status.rawValue)
            rows.add(session.facts.finishedAt.map { $0.epochMilliseconds })
            rows.add(endedNow && status.needsRetry(recordsToRetry: session.recordsToRetry))
        }
        try await database.raw(
            """
            UPDATE sync_sessions SET status = e ->> 1, finished_at = CAST(e ->> 2 AS BIGINT), version = version + 1,
                summary_pending = 1, retry_pending = CASE WHEN CAST(e ->> 3 AS SMALLINT) = 1 THEN 1 ELSE retry_pending END
            FROM \(JSONRows.source(rows.text, flavor: flavor)) WHERE sync_sessions.session_id = e ->> 0
            """
        ).run()
        return ended
    }
}
