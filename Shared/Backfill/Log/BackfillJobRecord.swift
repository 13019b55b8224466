import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// One backfill job as the log keeps it: every field of the Backfill Logs page and its details view,
/// plus what the validators need to own and resume it.
public struct BackfillJobRecord: Codable, Sendable, Hashable {
    public var jobId: String
    public var action: String
    /// "Uploaded File": the name the user gave the file.
    public var uploadedFile: String?
    /// Where the file is, relative to the file store.
    public var filePath: String?
    public var fileSize: Int?
    public var md5: String?
    public var generatedBy: String
    /// The job whose failed rows this job retries, and the job that retried this one.
    public var retryOf: String?
    public var retriedBy: String?
    public var status: BackfillStatus
    /// Instants in epoch milliseconds.
    public var submittedAt: Int
    public var startDate: Int?
    public var endDate: Int?
    /// Data rows in the file, once validated.
    public var recordsTotal: Int?
    /// Rows with an outcome (applied, or failed by the validator or a processor).
    public var recordsProcessed: Int
    public var recordsFailed: Int
    /// How many chunks the valid rows make, once validated.
    public var chunkCount: Int?
    /// Valid rows per chunk: fixed per job so that a resumed fan-out makes the same chunks.
    public var chunkSize: Int
    public var error: String?
    /// Where the result file is, relative to the file store.
    public var resultPath: String?
    /// Who asked to cancel, once someone did; the owner then ends the job as Canceled.
    public var cancelRequestedBy: String?
    /// The validator instance running the job and until when its claim holds (epoch ms).
    public var owner: String?
    public var leaseUntil: Int
    public var updatedAt: Int
    /// The claim's epoch (one more on every takeover), and takeovers since the job last moved on.
    public var epoch: Int
    public var takeovers: Int
    /// The number of this state (one more on every save), and the newest one on the status topic.
    public var sequence: Int
    public var publishedSequence: Int
    /// The job whose changes this job puts back (a revert), and the revert of this job, once there is one.
    public var reverts: String?
    public var revertedBy: String?
    /// 1 when a revert puts back records changed since the job it reverts, 0 when it reports them.
    public var overwriteChanged: Int
    /// The failure brake, as written (`500`, `2.5%`); nil: none.
    public var maxFailed: String?
    /// Who asked to pause the job, until it is resumed; and why the job is Paused, while it is.
    public var pauseRequestedBy: String?
    public var pauseReason: String?
    /// The most rows per second the job may apply; nil: as fast as the processors go.
    public var rateLimit: Int?
    /// While Pending: how many rows and bytes of the file validation has read.
    public var rowsValidated: Int?
    public var bytesValidated: Int?
    /// While Processing: rows with an outcome per second lately, and when the job should end (epoch ms).
    public var rowsPerSecond: Int?
    public var estimatedEnd: Int?
    /// 1 for a preview (a dry run: validates, reads what each row would change, writes no record).
    public var preview: Int
    /// A preview's counts once it ends: rows that would change a record, and rows whose record already
    /// holds what they ask (the rows that would fail are Records Failed).
    public var wouldChange: Int?
    public var alreadyAsAsked: Int?
    /// The preview this job applies, and the job that applied this preview, once one did.
    public var applies: String?
    public var appliedBy: String?
    /// Who approved applying the preview (an apply job).
    public var approvedBy: String?
    /// The SHA-256 (hex) of the upload as a preview read it: its apply must read the same file.
    public var fileDigest: String?
    /// When the job's before-images were removed by a retention (epoch ms); nil: kept.
    public var beforeImagesRemoved: Int?

    public init(
        jobId: String, action: String, uploadedFile: String?, filePath: String?, fileSize: Int?, md5: String?,
        generatedBy: String, retryOf: String?, status: BackfillStatus, submittedAt: Int, chunkSize: Int,
        owner: String?, leaseUntil: Int
    ) {
        self.jobId = jobId
        self.action = action
        self.uploadedFile = uploadedFile
        self.filePath = filePath
        self.fileSize = fileSize
        self.md5 = md5
        self.generatedBy = generatedBy
        self.retryOf = retryOf
        self.status = status
        self.submittedAt = submittedAt
        self.recordsProcessed = 0
        self.recordsFailed = 0
        self.chunkSize = chunkSize
        self.owner = owner
        self.leaseUntil = leaseUntil
        self.updatedAt = submittedAt
        self.epoch = 1
        self.takeovers = 0
        self.sequence = 1
        self.publishedSequence = 0
        self.overwriteChanged = 0
        self.preview = 0
    }

    /// The claim this record's owner holds it by, if anyone owns it.
    public var claim: JobClaim? { owner.map { JobClaim(owner: $0, epoch: epoch) } }

    /// The event announcing this state on the status topic.
    public var statusEvent: BackfillStatusEvent {
        var event = BackfillStatusEvent(
            action: action, uploadedFile: uploadedFile,
            startDate: startDate.map(Date.init(epochMilliseconds:)), endDate: endDate.map(Date.init(epochMilliseconds:)),
            generatedBy: generatedBy, recordsProcessed: recordsProcessed, recordsFailed: recordsFailed,
            status: status, error: error,
            resultFile: resultPath.map { FileReference(path: $0, name: ($0 as NSString).lastPathComponent) },
            sequence: sequence, reverts: reverts, revertedBy: revertedBy, pauseReason: pauseReason,
            recordsTotal: recordsTotal, rowsValidated: rowsValidated, bytesValidated: bytesValidated,
            fileBytes: fileSize, rowsPerSecond: rowsPerSecond, estimatedEnd: estimatedEnd.map(Date.init(epochMilliseconds:)))
        if preview != 0 {
            event.preview = true
            event.wouldChange = wouldChange
            event.alreadyAsAsked = alreadyAsAsked
            event.wouldFail = status.isTerminal ? recordsFailed : nil
        }
        event.applies = applies
        event.appliedBy = appliedBy
        event.approvedBy = approvedBy
        return event
    }
}
