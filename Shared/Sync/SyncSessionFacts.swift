import Foundation
import JobstreamMessages

/// What the recorder knows of one sync session, from whichever of its events arrived so far.
///
/// Events arrive twice and out of order, so every fact is kept the first time it is seen and the
/// status is derived from the facts rather than moved step by step: the same events in any order
/// give the same facts, and so the same status.
public struct SyncSessionFacts: Sendable, Hashable {
    public var operation: SyncOperation?
    public var startedAt: Date?
    public var finishReportedAt: Date?
    public var recordsExpected: Int?
    public var failedAt: Date?
    public var failure: SyncSystemFailure?
    public var failureReason: String?
    public var recordsSynced = 0
    public var recordsFailed = 0

    public init(
        operation: SyncOperation? = nil, startedAt: Date? = nil, finishReportedAt: Date? = nil,
        recordsExpected: Int? = nil, failedAt: Date? = nil, failure: SyncSystemFailure? = nil,
        failureReason: String? = nil, recordsSynced: Int = 0, recordsFailed: Int = 0
    ) {
        self.operation = operation
        self.startedAt = startedAt
        self.finishReportedAt = finishReportedAt
        self.recordsExpected = recordsExpected
        self.failedAt = failedAt
        self.failure = failure
        self.failureReason = failureReason
        self.recordsSynced = recordsSynced
        self.recordsFailed = recordsFailed
    }

    /// The session's status on the Sync History page.
    ///
    /// - Running until the start is known, and until the finish arrived with every outcome it announced.
    /// - Failure once a system failure was reported (it wins over a finish: the session is retried whole).
    /// - Finished with Errors or Finished once all announced outcomes are counted.
    public var status: SyncSessionStatus {
        guard operation != nil, startedAt != nil else { return .running }
        if failedAt != nil { return .failure }
        guard finishReportedAt != nil, let recordsExpected, recordsSynced + recordsFailed >= recordsExpected else {
            return .running
        }
        return recordsFailed > 0 ? .finishedWithErrors : .finished
    }

    /// When the session ended (its failure or its finish); nil while it runs.
    public var finishedAt: Date? {
        switch status {
        case .running: nil
        case .failure: failedAt
        case .finished, .finishedWithErrors: finishReportedAt
        }
    }

    /// Adds what `event` says, keeping facts already known.
    public mutating func add(_ event: SyncSessionStarted) {
        operation = operation ?? event.operation
        startedAt = startedAt ?? event.startedAt
    }

    public mutating func add(_ event: SyncSessionFinished) {
        finishReportedAt = finishReportedAt ?? event.finishedAt
        recordsExpected = recordsExpected ?? event.recordCount
    }

    public mutating func add(_ event: SyncSessionFailed) {
        if failedAt == nil {
            failedAt = event.failedAt
            failure = event.failure
            failureReason = TextRule.cut(event.reason, toBytes: InputLimits.messageTextBytes)
        }
    }
}

extension SyncSessionStatus {
    /// Whether a session that reaches this status asks the next session for a retry: the whole session
    /// after a Failure, the retryable records after Finished with Errors.
    public func needsRetry(recordsToRetry: Int) -> Bool {
        switch self {
        case .failure: true
        case .finishedWithErrors: recordsToRetry > 0
        case .running, .finished: false
        }
    }
}
