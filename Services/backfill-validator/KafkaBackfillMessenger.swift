import JobstreamBackfill
import JobstreamMessages
import JobstreamService
import Kafka

/// A backfill job's messages over Kafka: chunks to `jobstream.backfill.chunks`, keyed by job and
/// chunk so one job's chunks spread over every partition and processor; states to
/// `jobstream.backfill.status`, keyed by job id (the compacted topic keeps each job's latest).
struct KafkaBackfillMessenger: BackfillMessenger {
    let producer: KafkaProducer
    let metrics: ServiceMetrics

    init(producer: KafkaProducer, metrics: ServiceMetrics) {
        self.producer = producer
        self.metrics = metrics
    }

    func sendChunks(_ chunks: [BackfillChunk], of jobId: String) async throws {
        try await producer.sendAll(
            chunks.map {
                try KafkaProducerMessage(
                    topic: Topics.backfillChunks, envelope: Envelope(jobId: jobId, payload: $0),
                    key: "\(jobId)/\($0.chunkIndex)")
            })
    }

    func announce(_ event: BackfillStatusEvent, of jobId: String) async throws {
        _ = try await producer.send(
            KafkaProducerMessage(topic: Topics.backfillStatus, envelope: Envelope(jobId: jobId, payload: event)))
        metrics.statusPublished(kind: .backfill, status: event.status.rawValue)
    }
}
