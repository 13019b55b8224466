import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// One migration as the log keeps it: every field of the Migration Logs page and its details
/// window, plus what the runners need to own and resume it.
public struct MigrationRecord: Codable, Sendable, Hashable {
    public var migrationId: String
    /// "Cutover Date", as `YYYY-MM-DD`.
    public var cutoverDate: String
    public var generatedBy: String
    public var status: MigrationStatus
    /// Instants in epoch milliseconds.
    public var submittedAt: Int
    public var startTime: Int?
    public var endTime: Int?
    /// 0 to 100: the share of slices done.
    public var progress: Int
    /// Charges per slice: fixed per migration so that a resumed plan is the same plan.
    public var sliceSize: Int
    public var sliceCount: Int?
    public var chargesInScope: Int?
    public var schedulesGenerated: Int
    public var warnings: Int
    /// Why the migration stopped, for Error.
    public var error: String?
    /// The runner instance coordinating the migration and until when its claim holds (epoch ms).
    public var owner: String?
    public var leaseUntil: Int
    public var updatedAt: Int
    /// The claim's epoch, takeovers since the migration last moved on, the number of this state and
    /// the newest one on the status topic (as for a backfill job).
    public var epoch: Int
    public var takeovers: Int
    public var sequence: Int
    public var publishedSequence: Int
    /// 1 for a preview: slices are read and built, their warnings recorded, no schedule written.
    public var preview: Int

    public init(
        migrationId: String, cutoverDate: CalendarDate, generatedBy: String, status: MigrationStatus,
        submittedAt: Int, sliceSize: Int, owner: String?, leaseUntil: Int
    ) {
        self.migrationId = migrationId
        self.cutoverDate = cutoverDate.description
        self.generatedBy = generatedBy
        self.status = status
        self.submittedAt = submittedAt
        self.progress = 0
        self.sliceSize = sliceSize
        self.schedulesGenerated = 0
        self.warnings = 0
        self.owner = owner
        self.leaseUntil = leaseUntil
        self.updatedAt = submittedAt
        self.epoch = 1
        self.takeovers = 0
        self.sequence = 1
        self.publishedSequence = 0
        self.preview = 0
    }

    /// The claim this record's coordinator holds it by, if anyone owns it.
    public var claim: JobClaim? { owner.map { JobClaim(owner: $0, epoch: epoch) } }

    /// The cutover date; the log only ever holds valid dates.
    public var cutover: CalendarDate {
        CalendarDate(cutoverDate) ?? CalendarDate(year: 1970, month: 1, day: 1)!
    }

    /// The event announcing this state on the status topic.
    public var statusEvent: MigrationStatusEvent {
        var event = MigrationStatusEvent(
            startTime: startTime.map(Date.init(epochMilliseconds:)), endTime: endTime.map(Date.init(epochMilliseconds:)),
            generatedBy: generatedBy, cutoverDate: cutover, progress: progress, status: status, error: error,
            chargesInScope: chargesInScope, schedulesGenerated: schedulesGenerated, warnings: warnings, sequence: sequence)
        if preview != 0 { event.preview = true }
        return event
    }
}
