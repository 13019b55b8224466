import Foundation
import JobstreamMessages
import JobstreamService
import JobstreamStore
import JobstreamSync
import Kafka
import Logging

/// Publishes what the sync history holds for the topics: waiting summaries (to the compacted sync
/// history topic), waiting retry requests (to the retries topic), and retention's tombstones.
///
/// A mark is cleared only after the broker acknowledged the message, so a crash in between publishes
/// it again (at least once). One publisher per process, one publication at a time: a summary never
/// overtakes a newer one of the same session from this process, nor a tombstone.
final class SyncPublisher: Sendable {
    let outbox: SyncOutbox
    private let producer: KafkaProducer
    private let logger: Logger
    private let metrics: ServiceMetrics
    private let serial = AsyncMutex()
    /// The most sessions read per round.
    private let pageSize = 500

    init(store: Store, producer: KafkaProducer, logger: Logger, metrics: ServiceMetrics = ServiceMetrics()) {
        self.outbox = SyncOutbox(store: store)
        self.producer = producer
        self.logger = logger
        self.metrics = metrics
    }

    /// What one publication sent.
    struct Published: Sendable {
        var summaries = 0
        var retryRequests = 0
    }

    /// Publishes the waiting summaries and retry requests of `sessions`, or, with nil, of every session
    /// unchanged since `changedBefore` (the sweep for what another moment or instance left waiting).
    @discardableResult
    func publishPending(of sessions: [String]?, changedBefore: Date? = nil) async throws -> Published {
        try await serial.withLock {
            var published = Published()
            while true {
                let waiting = try await outbox.pendingSummaries(of: sessions, changedBefore: changedBefore, limit: pageSize)
                try await send(waiting.compactMap { session in
                    try session.summary.map {
                        try KafkaProducerMessage(topic: Topics.syncHistory, envelope: Envelope(jobId: session.sessionId, payload: $0))
                    }
                })
                try await outbox.summariesPublished(waiting)
                for summary in waiting.compactMap(\.summary) {
                    metrics.statusPublished(kind: .sync, status: summary.status.rawValue)
                }
                published.summaries += waiting.count
                if waiting.count < pageSize { break }
            }
            while true {
                let waiting = try await outbox.pendingRetries(of: sessions, changedBefore: changedBefore, limit: pageSize)
                for session in waiting {
                    let requests = try await outbox.retryRequests(for: session)
                    try await send(try requests.map {
                        try KafkaProducerMessage(topic: Topics.syncRetries, envelope: Envelope(jobId: session.sessionId, payload: $0))
                    })
                    published.retryRequests += requests.count
                    logger.info("published \(requests.count) retry request(s) for \(session.status.rawValue) session \(session.sessionId)",
                                metadata: ["sync.session": "\(session.sessionId)"])
                }
                try await outbox.retriesPublished(waiting)
                if waiting.count < pageSize { break }
            }
            return published
        }
    }

    /// Deletes the sessions retention no longer keeps: tombstones first (acknowledged), then the rows,
    /// so a crash in between at worst repeats a tombstone.
    func applyRetention(_ retention: SyncRetention, now: Date = Date()) async throws -> SyncRetention.Deleted {
        try await serial.withLock {
            var total = SyncRetention.Deleted()
            while true {
                let expired = try await retention.expiredSessions(now: now, limit: pageSize)
                guard !expired.isEmpty else { break }
                try await send(expired.map { KafkaProducerMessage.tombstone(topic: Topics.syncHistory, key: $0) })
                let deleted = try await retention.delete(expired, now: now)
                total.sessions += deleted.sessions
                total.records += deleted.records
                total.crmIdChanges += deleted.crmIdChanges
            }
            if total.sessions > 0 {
                logger.info("""
                    retention deleted \(total.sessions) session(s) finished \(retention.days) days ago or more, with \
                    \(total.records) record outcome(s) and \(total.crmIdChanges) CRM id change result(s)
                    """)
            }
            return total
        }
    }

    /// Sends every message and waits for all acknowledgements; throws the first failure.
    private func send(_ messages: [KafkaProducerMessage]) async throws {
        guard !messages.isEmpty else { return }
        let producer = self.producer
        try await withThrowingTaskGroup(of: Void.self) { group in
            for message in messages {
                group.addTask { _ = try await producer.send(message) }
            }
            try await group.waitForAll()
        }
    }
}
