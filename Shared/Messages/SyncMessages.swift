import Foundation

/// How a sync session was started, as the Sync History filter names it.
public enum SyncOperation: String, CaseIterable, Codable, Sendable {
    case manual = "Manual"
    case scheduled = "Scheduled"
    case realTime = "Real-time"
    case onDemand = "On-demand"
    case cleanUp = "Clean-up"
}

/// A sync engine opened a session (topic `jobstream.sync.events`, keyed by session id = job id).
public struct SyncSessionStarted: JobstreamMessage {
    public static let messageType = MessageType.syncSessionStarted

    public var operation: SyncOperation
    public var startedAt: Date

    public init(operation: SyncOperation, startedAt: Date) {
        self.operation = operation
        self.startedAt = startedAt
    }
}

/// A record's CRM id changed during the sync (a "CRM Id Change Result").
public struct CrmIdChange: Codable, Sendable, Hashable {
    public var previousCrmId: String
    public var newCrmId: String

    public init(previousCrmId: String, newCrmId: String) {
        self.previousCrmId = previousCrmId
        self.newCrmId = newCrmId
    }
}

/// One record's outcome in a session (topic `jobstream.sync.events`).
public struct SyncRecordOutcome: JobstreamMessage {
    public static let messageType = MessageType.syncRecordOutcome

    /// The billing object, e.g. "Account", "Subscription", "Invoice".
    public var objectType: String
    public var objectId: String
    public var crmId: String?
    public var success: Bool
    /// e.g. "UNABLE_TO_LOCK_ROW", "INVALID_CRM_ACCOUNT_ID".
    public var errorCode: String?
    public var errorMessage: String?
    /// Whether the next session retries the record by itself (a row lock) rather than needing a manual fix.
    public var retryable: Bool
    public var crmIdChange: CrmIdChange?

    public init(
        objectType: String, objectId: String, crmId: String? = nil, success: Bool, errorCode: String? = nil,
        errorMessage: String? = nil, retryable: Bool = false, crmIdChange: CrmIdChange? = nil
    ) {
        self.objectType = objectType
        self.objectId = objectId
        self.crmId = crmId
        self.success = success
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.retryable = retryable
        self.crmIdChange = crmIdChange
    }
}

/// The engine closed a session normally (topic `jobstream.sync.events`).
public struct SyncSessionFinished: JobstreamMessage {
    public static let messageType = MessageType.syncSessionFinished

    public var finishedAt: Date
    /// How many record outcomes the engine sent in the session: the recorder closes the session once
    /// it has counted them all, however late they arrive.
    public var recordCount: Int

    public init(finishedAt: Date, recordCount: Int) {
        self.finishedAt = finishedAt
        self.recordCount = recordCount
    }
}

/// The kinds of system failure that end a sync session prematurely, as the Sync History page lists them.
public enum SyncSystemFailure: String, CaseIterable, Codable, Sendable {
    case databaseConnection = "Database connection"
    case storage = "Storage"
    case crmConnection = "CRM connection"
}

/// A system failure ended a session early (topic `jobstream.sync.events`).
public struct SyncSessionFailed: JobstreamMessage {
    public static let messageType = MessageType.syncSessionFailed

    public var failedAt: Date
    public var failure: SyncSystemFailure
    /// What the engine saw, e.g. "connection reset by peer".
    public var reason: String

    public init(failedAt: Date, failure: SyncSystemFailure, reason: String) {
        self.failedAt = failedAt
        self.failure = failure
        self.reason = reason
    }
}

/// A session's summary line (topic `jobstream.sync.history`, compacted, keyed by session id; a
/// tombstone when retention deletes the session).
public struct SyncHistoryEntry: JobstreamMessage {
    public static let messageType = MessageType.syncHistory

    public var operation: SyncOperation
    public var status: SyncSessionStatus
    public var startedAt: Date?
    /// When the session finished, or failed.
    public var finishedAt: Date?
    /// How many outcomes the engine said it sent; nil until the session finished.
    public var recordsExpected: Int?
    public var recordsSynced: Int
    public var recordsFailed: Int
    /// Failed records the next session retries by itself (e.g. a row lock).
    public var recordsToRetry: Int
    /// Failed records that need a manual fix first (e.g. an invalid CRM account id).
    public var recordsNeedingFix: Int
    /// Records whose CRM id changed (the CRM Id Change Results).
    public var crmIdChanges: Int
    public var failure: SyncSystemFailure?
    public var failureReason: String?

    public init(
        operation: SyncOperation, status: SyncSessionStatus, startedAt: Date? = nil, finishedAt: Date? = nil,
        recordsExpected: Int? = nil, recordsSynced: Int, recordsFailed: Int, recordsToRetry: Int = 0,
        recordsNeedingFix: Int = 0, crmIdChanges: Int = 0, failure: SyncSystemFailure? = nil,
        failureReason: String? = nil
    ) {
        self.operation = operation
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.recordsExpected = recordsExpected
        self.recordsSynced = recordsSynced
        self.recordsFailed = recordsFailed
        self.recordsToRetry = recordsToRetry
        self.recordsNeedingFix = recordsNeedingFix
        self.crmIdChanges = crmIdChanges
        self.failure = failure
        self.failureReason = failureReason
    }
}

/// What the next session should retry (topic `jobstream.sync.retries`, keyed by the session id that
/// failed). A session with many failed records is split into parts of at most ``maxRecordsPerPart``;
/// delivery is at least once, so an engine may see a part twice and tells them apart by `part`.
public struct SyncRetryRequest: JobstreamMessage {
    public static let messageType = MessageType.syncRetry

    /// A record to sync again.
    public struct Record: Codable, Sendable, Hashable {
        public var objectType: String
        public var objectId: String

        public init(objectType: String, objectId: String) {
            self.objectType = objectType
            self.objectId = objectId
        }
    }

    /// Retry just the failed records, or the whole session after a Failure.
    public enum Scope: String, Codable, Sendable {
        case records, session
    }

    /// The most records one message carries.
    public static let maxRecordsPerPart = 1000

    public var scope: Scope
    public var operation: SyncOperation
    /// The records to retry; empty when the scope is the whole session.
    public var records: [Record]
    /// This message's number among the session's retry messages, from 1.
    public var part: Int
    public var partCount: Int

    public init(scope: Scope, operation: SyncOperation, records: [Record] = [], part: Int = 1, partCount: Int = 1) {
        self.scope = scope
        self.operation = operation
        self.records = records
        self.part = part
        self.partCount = partCount
    }
}
