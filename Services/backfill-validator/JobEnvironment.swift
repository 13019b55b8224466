import Foundation
import JobstreamBackfill
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
    /// How long a claim lasts without renewal.
    let lease: Lease
    let metrics: ServiceMetrics
    /// The bounds of uploaded files.
    let fileLimits: FileLimits

    /// Announces the job's state on the status topic (keyed by job id) and waits for the broker.
    func publish(_ job: BackfillJobRecord) async throws {
        _ = try await producer.send(KafkaProducerMessage(
            topic: Topics.backfillStatus, envelope: Envelope(jobId: job.jobId, payload: job.statusEvent)))
        metrics.statusPublished(kind: "backfill", status: job.status.rawValue)
    }
}
