import JobstreamMessages
import JobstreamMigration
import JobstreamService
import Kafka

/// A migration's messages over Kafka: slices to `jobstream.migration.slices`, keyed by migration and
/// slice so they spread over every partition and runner; states to `jobstream.migration.status`,
/// keyed by migration id.
struct KafkaMigrationMessenger: MigrationMessenger {
    let producer: KafkaProducer
    let metrics: ServiceMetrics

    func sendSlices(_ slices: [MigrationSlice], of migrationId: String) async throws {
        try await producer.sendAll(
            slices.map {
                try KafkaProducerMessage(
                    topic: Topics.migrationSlices, envelope: Envelope(jobId: migrationId, payload: $0),
                    key: "\(migrationId)/\($0.sliceIndex)")
            })
    }

    func announce(_ event: MigrationStatusEvent, of migrationId: String) async throws {
        _ = try await producer.send(
            KafkaProducerMessage(topic: Topics.migrationStatus, envelope: Envelope(jobId: migrationId, payload: event)))
        metrics.statusPublished(kind: .migration, status: event.status.rawValue)
    }
}
