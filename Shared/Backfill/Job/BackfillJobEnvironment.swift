import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging

/// What a validator's jobs share: the log, the ledger, the files, where messages go, the clock and
/// the settings.
public struct BackfillJobEnvironment: Sendable {
    /// This instance's name in the job log's `owner` column.
    public let instance: String
    public let log: BackfillJobLog
    public let ledger: BackfillLedger
    public let files: FileStore
    public let messenger: any BackfillMessenger
    public let logger: Logger
    /// Valid rows per chunk, for the jobs this instance accepts.
    public let chunkSize: Int
    /// How long a claim lasts without renewal, and how many takeovers in a row a job may have.
    public let lease: Lease
    /// The bounds of uploaded files.
    public let fileLimits: FileLimits
    public let clock: any JobClock

    public init(
        instance: String = Lease.instanceName(), store: Store, files: FileStore, messenger: any BackfillMessenger,
        logger: Logger, chunkSize: Int, lease: Lease, fileLimits: FileLimits = .standard,
        clock: any JobClock = SystemJobClock()
    ) {
        self.instance = instance
        log = BackfillJobLog(store: store)
        ledger = BackfillLedger(store: store)
        self.files = files
        self.messenger = messenger
        self.logger = logger
        self.chunkSize = chunkSize
        self.lease = lease
        self.fileLimits = fileLimits
        self.clock = clock
    }

    /// Announces the job's state on the status topic (keyed by job id) and notes it published. A
    /// broker that cannot be reached does not stop the job: the state stays marked unpublished in
    /// the log, and ``publishUnpublished()`` sends it once the broker is back.
    public func publish(_ job: BackfillJobRecord) async {
        do {
            try await messenger.announce(job.statusEvent, of: job.jobId)
            try await log.published(job.jobId, sequence: job.sequence)
        } catch {
            logger.warning(
                "backfill \(job.jobId): announcing \(job.status.rawValue) failed (\(error)); it is sent again later",
                metadata: ["job.id": "\(job.jobId)"])
        }
    }

    /// Sends the latest state of every job whose state is not on the status topic yet (a broker was
    /// away, or its owner died between saving and announcing).
    public func publishUnpublished() async throws {
        for job in try await log.unpublished(quietMilliseconds: 3000) {
            await publish(job)
        }
    }
}
