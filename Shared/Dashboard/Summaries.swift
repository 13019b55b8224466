import Foundation
import JobstreamMessages

/// One row of the Backfill Logs, as the JSON API returns it and the pages show it.
public struct BackfillSummary: Sendable, Equatable, Encodable {
    public var jobId: String
    public var action: String
    public var uploadedFile: String?
    public var startDate: Date?
    public var endDate: Date?
    public var generatedBy: String
    public var recordsProcessed: Int
    public var recordsFailed: Int
    public var status: BackfillStatus
    public var error: String?
    /// The result file's name, once there is one: the uploaded rows with Success and Error Message.
    public var resultFile: String?
    /// The result file's place in the file store; not part of the API.
    var resultPath: String?
    /// When the latest status event was published.
    public var updatedAt: Date
    /// Data rows in the file, once validated; while Processing, the pace and the estimated end.
    public var recordsTotal: Int?
    public var rowsPerSecond: Int?
    public var estimatedEnd: Date?
    /// While Pending: how far validation has read, of how many bytes.
    public var rowsValidated: Int?
    public var bytesValidated: Int?
    public var fileBytes: Int?
    /// Why the job is Paused, while it is.
    public var pauseReason: String?
    /// The job this one reverts, and the job that reverted this one.
    public var reverts: String?
    public var revertedBy: String?
    /// A preview (a dry run) and its counts once it ended; the preview this job applies, the job that
    /// applied this preview, and who approved it.
    public var preview: Bool
    public var wouldChange: Int?
    public var alreadyAsAsked: Int?
    public var wouldFail: Int?
    public var applies: String?
    public var appliedBy: String?
    public var approvedBy: String?

    /// Pending, Processing and Paused jobs can be canceled.
    public var cancelable: Bool { status.isCancelable }
    /// A Processing job can be paused, and a Paused one resumed.
    public var pausable: Bool { status == .processing }
    public var resumable: Bool { status == .paused }
    /// A Completed preview not applied yet can be applied (approved).
    public var applicable: Bool { preview && status == .completed && appliedBy == nil }
    /// An ended job that is not a preview, changed something and was not reverted can be reverted
    /// (the job log has the last word: ``BackfillJobLog/revertProblem(of:)``).
    public var revertible: Bool {
        status.isTerminal && !preview && revertedBy == nil && recordsProcessed > recordsFailed
    }

    var sortDate: Date { startDate ?? updatedAt }

    init(_ envelope: Envelope<BackfillStatusEvent>) {
        let event = envelope.payload
        jobId = envelope.jobId
        action = event.action
        uploadedFile = event.uploadedFile
        startDate = event.startDate
        endDate = event.endDate
        generatedBy = event.generatedBy
        recordsProcessed = event.recordsProcessed
        recordsFailed = event.recordsFailed
        status = event.status
        error = event.error
        resultFile = event.resultFile?.name
        resultPath = event.resultFile?.path
        updatedAt = envelope.time
        recordsTotal = event.recordsTotal
        rowsPerSecond = event.rowsPerSecond
        estimatedEnd = event.estimatedEnd
        rowsValidated = event.rowsValidated
        bytesValidated = event.bytesValidated
        fileBytes = event.fileBytes
        pauseReason = event.pauseReason
        reverts = event.reverts
        revertedBy = event.revertedBy
        preview = event.preview == true
        wouldChange = event.wouldChange
        alreadyAsAsked = event.alreadyAsAsked
        wouldFail = event.wouldFail
        applies = event.applies
        appliedBy = event.appliedBy
        approvedBy = event.approvedBy
    }

    private enum CodingKeys: String, CodingKey {
        case jobId, action, uploadedFile, startDate, endDate, generatedBy, recordsProcessed, recordsFailed, status, error,
            resultFile, updatedAt, cancelable, pausable, resumable, recordsTotal, rowsPerSecond, estimatedEnd, rowsValidated,
            bytesValidated, fileBytes, pauseReason, reverts, revertedBy, preview, wouldChange, alreadyAsAsked, wouldFail,
            applies, appliedBy, approvedBy, applicable, revertible
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobId, forKey: .jobId)
        try container.encode(action, forKey: .action)
        try container.encode(uploadedFile, forKey: .uploadedFile)
        try container.encode(startDate.map(Timestamp.format), forKey: .startDate)
        try container.encode(endDate.map(Timestamp.format), forKey: .endDate)
        try container.encode(generatedBy, forKey: .generatedBy)
        try container.encode(recordsProcessed, forKey: .recordsProcessed)
        try container.encode(recordsFailed, forKey: .recordsFailed)
        try container.encode(status, forKey: .status)
        try container.encode(error, forKey: .error)
        try container.encode(resultFile, forKey: .resultFile)
        try container.encode(Timestamp.format(updatedAt), forKey: .updatedAt)
        try container.encode(cancelable, forKey: .cancelable)
        try container.encode(pausable, forKey: .pausable)
        try container.encode(resumable, forKey: .resumable)
        try container.encodeIfPresent(recordsTotal, forKey: .recordsTotal)
        try container.encodeIfPresent(rowsPerSecond, forKey: .rowsPerSecond)
        try container.encodeIfPresent(estimatedEnd.map(Timestamp.format), forKey: .estimatedEnd)
        try container.encodeIfPresent(rowsValidated, forKey: .rowsValidated)
        try container.encodeIfPresent(bytesValidated, forKey: .bytesValidated)
        try container.encodeIfPresent(fileBytes, forKey: .fileBytes)
        try container.encodeIfPresent(pauseReason, forKey: .pauseReason)
        try container.encodeIfPresent(reverts, forKey: .reverts)
        try container.encodeIfPresent(revertedBy, forKey: .revertedBy)
        try container.encode(preview, forKey: .preview)
        try container.encodeIfPresent(wouldChange, forKey: .wouldChange)
        try container.encodeIfPresent(alreadyAsAsked, forKey: .alreadyAsAsked)
        try container.encodeIfPresent(wouldFail, forKey: .wouldFail)
        try container.encodeIfPresent(applies, forKey: .applies)
        try container.encodeIfPresent(appliedBy, forKey: .appliedBy)
        try container.encodeIfPresent(approvedBy, forKey: .approvedBy)
        try container.encode(applicable, forKey: .applicable)
        try container.encode(revertible, forKey: .revertible)
    }
}

/// One row of the Migration Logs.
public struct MigrationSummary: Sendable, Equatable, Encodable {
    public var migrationId: String
    public var startTime: Date?
    public var endTime: Date?
    public var generatedBy: String
    public var cutoverDate: CalendarDate
    /// Percent of the migration's slices done, 0 to 100.
    public var progress: Int
    public var status: MigrationStatus
    public var error: String?
    public var chargesInScope: Int?
    public var schedulesGenerated: Int?
    public var warnings: Int?
    public var updatedAt: Date
    /// A preview: Schedules Generated counts what it would generate; none was written.
    public var preview: Bool

    var sortDate: Date { startTime ?? updatedAt }

    init(_ envelope: Envelope<MigrationStatusEvent>) {
        let event = envelope.payload
        migrationId = envelope.jobId
        startTime = event.startTime
        endTime = event.endTime
        generatedBy = event.generatedBy
        cutoverDate = event.cutoverDate
        progress = min(100, max(0, event.progress))
        status = event.status
        error = event.error
        chargesInScope = event.chargesInScope
        schedulesGenerated = event.schedulesGenerated
        warnings = event.warnings
        updatedAt = envelope.time
        preview = event.preview == true
    }

    private enum CodingKeys: String, CodingKey {
        case migrationId, startTime, endTime, generatedBy, cutoverDate, progress, status, error, chargesInScope,
            schedulesGenerated, warnings, updatedAt, preview
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(migrationId, forKey: .migrationId)
        try container.encode(startTime.map(Timestamp.format), forKey: .startTime)
        try container.encode(endTime.map(Timestamp.format), forKey: .endTime)
        try container.encode(generatedBy, forKey: .generatedBy)
        try container.encode(cutoverDate, forKey: .cutoverDate)
        try container.encode(progress, forKey: .progress)
        try container.encode(status, forKey: .status)
        try container.encode(error, forKey: .error)
        try container.encode(chargesInScope, forKey: .chargesInScope)
        try container.encode(schedulesGenerated, forKey: .schedulesGenerated)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(Timestamp.format(updatedAt), forKey: .updatedAt)
        try container.encode(preview, forKey: .preview)
    }
}

/// One row of the Sync History.
public struct SyncSessionSummary: Sendable, Equatable, Encodable {
    public var sessionId: String
    public var operation: SyncOperation
    public var status: SyncSessionStatus
    public var startedAt: Date?
    public var finishedAt: Date?
    public var recordsExpected: Int?
    public var recordsSynced: Int
    public var recordsFailed: Int
    public var recordsToRetry: Int
    public var recordsNeedingFix: Int
    public var crmIdChanges: Int
    public var failure: SyncSystemFailure?
    public var failureReason: String?
    public var updatedAt: Date

    init(_ envelope: Envelope<SyncHistoryEntry>) {
        let entry = envelope.payload
        sessionId = envelope.jobId
        operation = entry.operation
        status = entry.status
        startedAt = entry.startedAt
        finishedAt = entry.finishedAt
        recordsExpected = entry.recordsExpected
        recordsSynced = entry.recordsSynced
        recordsFailed = entry.recordsFailed
        recordsToRetry = entry.recordsToRetry
        recordsNeedingFix = entry.recordsNeedingFix
        crmIdChanges = entry.crmIdChanges
        failure = entry.failure
        failureReason = entry.failureReason
        updatedAt = envelope.time
    }

    private enum CodingKeys: String, CodingKey {
        case sessionId, operation, status, startedAt, finishedAt, recordsExpected, recordsSynced, recordsFailed,
            recordsToRetry, recordsNeedingFix, crmIdChanges, failure, failureReason, updatedAt
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sessionId, forKey: .sessionId)
        try container.encode(operation, forKey: .operation)
        try container.encode(status, forKey: .status)
        try container.encode(startedAt.map(Timestamp.format), forKey: .startedAt)
        try container.encode(finishedAt.map(Timestamp.format), forKey: .finishedAt)
        try container.encode(recordsExpected, forKey: .recordsExpected)
        try container.encode(recordsSynced, forKey: .recordsSynced)
        try container.encode(recordsFailed, forKey: .recordsFailed)
        try container.encode(recordsToRetry, forKey: .recordsToRetry)
        try container.encode(recordsNeedingFix, forKey: .recordsNeedingFix)
        try container.encode(crmIdChanges, forKey: .crmIdChanges)
        try container.encode(failure, forKey: .failure)
        try container.encode(failureReason, forKey: .failureReason)
        try container.encode(Timestamp.format(updatedAt), forKey: .updatedAt)
    }
}
