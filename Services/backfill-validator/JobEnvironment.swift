import Foundation
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Kafka
import Logging

/// What a validator's jobs share: the log, the ledger, the files, the producer and the settings.
struct JobEnvironment: Sendable {
    /// This instance's name in the job log's `owner` column.
    let instance: String
    let log: BackfillJobLog
    let ledger: BackfillLedger
    let files: FileStore
    let producer: KafkaProducer
    let logger: Logger
    let chunkSize: Int
    /// How long a claim lasts without renewal, and how many takeovers in a row a job may have.
    let lease: Lease
    let metrics: ServiceMetrics
    /// The bounds of uploaded files.
    let fileLimits: FileLimits

    /// Announces the job's state on the status topic (keyed by job id) and notes it published. A
    /// broker that cannot be reached does not stop the job: the state stays marked unpublished in
    /// the log, and ``publishUnpublished()`` sends it once the broker is back.
    func publish(_ job: BackfillJobRecord) async {
        do {
            _ = try await producer.send(KafkaProducerMessage(
                topic: Topics.backfillStatus, envelope: Envelope(jobId: job.jobId, payload: job.statusEvent)))
            metrics.statusPublished(kind: "backfill", status: job.status.rawValue)
            try await log.published(job.jobId, sequence: job.sequence)
        } catch {
            logger.warning("backfill \(job.jobId): announcing \(job.status.rawValue) failed (\(error)); it is sent again later",
                           metadata: ["job.id": "\(job.jobId)"])
        }
    }

    /// Sends the latest state of every job whose state is not on the status topic yet (a broker was
    /// away, or its owner died between saving and announcing).
    func publishUnpublished() async throws {
        for job in try await log.unpublished(quietMilliseconds: 3000) {
            await publish(job)
        }
    }
}
