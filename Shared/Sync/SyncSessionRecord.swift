import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// One session of the sync history as the database keeps it.
public struct SyncSessionRecord: Sendable, Hashable {
    public var sessionId: String
    public var facts: SyncSessionFacts
    /// The status as last recorded (``SyncSessionFacts/status`` of the facts then).
    public var status: SyncSessionStatus
    public var finishedAt: Date?
    /// Failed records the next session retries by itself.
    public var recordsToRetry: Int
    public var crmIdChanges: Int
    /// Incremented by every change; publishing marks the version it published.
    public var version: Int
    public var summaryPending: Bool
    public var retryPending: Bool

    /// Failed records that need a manual fix before a retry can succeed.
    public var recordsNeedingFix: Int { facts.recordsFailed - recordsToRetry }

    /// The session's line for the sync history topic; nil until its start (and so its operation) is known.
    public var summary: SyncHistoryEntry? {
        guard let operation = facts.operation else { return nil }
        return SyncHistoryEntry(
            operation: operation, status: status, startedAt: facts.startedAt, finishedAt: finishedAt,
            recordsExpected: facts.recordsExpected, recordsSynced: facts.recordsSynced,
            recordsFailed: facts.recordsFailed, recordsToRetry: recordsToRetry,
            recordsNeedingFix: recordsNeedingFix, crmIdChanges: crmIdChanges,
            failure: facts.failure, failureReason: facts.failureReason)
    }

    /// The columns ``init(row:)`` reads.
    static let columns = """
        session_id, operation, started_at, finish_reported_at, records_expected, failed_at, failure_kind, failure_reason,
        status, finished_at, records_synced, records_failed, records_to_retry, crm_id_changes, version, summary_pending,
        retry_pending
        """

    init(row: any SQLRow) throws {
        func date(_ column: String) throws -> Date? {
            try row.decode(column: column, as: Int64?.self).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
        let sessionId = try row.decode(column: "session_id", as: String.self)
        func known<T: RawRepresentable<String>>(_ column: String, as: T.Type) throws -> T? {
            guard let text = try row.decode(column: column, as: String?.self) else { return nil }
            guard let value = T(rawValue: text) else {
                throw StoreError.corrupt("sync session \(sessionId): \(column) \"\(text)\" is unknown")
            }
            return value
        }
        self.sessionId = sessionId
        self.facts = SyncSessionFacts(
            operation: try known("operation", as: SyncOperation.self), startedAt: try date("started_at"),
            finishReportedAt: try date("finish_reported_at"),
            recordsExpected: try row.decode(column: "records_expected", as: Int?.self),
            failedAt: try date("failed_at"), failure: try known("failure_kind", as: SyncSystemFailure.self),
            failureReason: try row.decode(column: "failure_reason", as: String?.self),
            recordsSynced: try row.decode(column: "records_synced", as: Int.self),
            recordsFailed: try row.decode(column: "records_failed", as: Int.self))
        self.status = try known("status", as: SyncSessionStatus.self) ?? .running
        self.finishedAt = try date("finished_at")
        self.recordsToRetry = try row.decode(column: "records_to_retry", as: Int.self)
        self.crmIdChanges = try row.decode(column: "crm_id_changes", as: Int.self)
        self.version = try row.decode(column: "version", as: Int.self)
        self.summaryPending = try row.decode(column: "summary_pending", as: Int.self) != 0
        self.retryPending = try row.decode(column: "retry_pending", as: Int.self) != 0
    }
}
