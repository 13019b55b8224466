import JobstreamMessages
import JobstreamService
import JobstreamSync
import Kafka

/// The recorder's messages over Kafka: summaries and tombstones to `jobstream.sync.history`
/// (compacted, keyed by session id), retry requests to `jobstream.sync.retries`.
struct KafkaSyncMessenger: SyncMessenger {
    let producer: KafkaProducer
    let metrics: ServiceMetrics

    func publishSummaries(_ summaries: [(sessionId: String, entry: SyncHistoryEntry)]) async throws {
        try await producer.sendAll(
            summaries.map {
                try KafkaProducerMessage(topic: Topics.syncHistory, envelope: Envelope(jobId: $0.sessionId, payload: $0.entry))
            })
        for summary in summaries { metrics.statusPublished(kind: .sync, status: summary.entry.status.rawValue) }
    }

    func publishRetryRequests(_ requests: [SyncRetryRequest], of sessionId: String) async throws {
        try await producer.sendAll(
            requests.map {
                try KafkaProducerMessage(topic: Topics.syncRetries, envelope: Envelope(jobId: sessionId, payload: $0))
            })
    }

    func publishTombstones(of sessionIds: [String]) async throws {
        try await producer.sendAll(sessionIds.map { KafkaProducerMessage.tombstone(topic: Topics.syncHistory, key: $0) })
    }
}
