import Foundation
import JobstreamMessages
import JobstreamStore
import Logging

/// Records each consumed batch of sync events and publishes what changed.
///
/// Per batch: one transaction records it (``SyncHistoryLog``); then the touched sessions' summaries
/// and any retry requests go out; when a session ended — a sync cycle — retention runs. Only then is
/// the batch marked processed, so a crash at any point replays it, and replaying changes nothing.
public struct SyncRecorder: Sendable {
    public let log: SyncHistoryLog
    public let publisher: SyncPublisher
    public let retention: SyncRetention

    public init(log: SyncHistoryLog, publisher: SyncPublisher, retention: SyncRetention) {
        self.log = log
        self.publisher = publisher
        self.retention = retention
    }

    /// Records one batch of sync events (any order, repeats allowed) and publishes what changed.
    @Sendable public func record(_ batch: [AnyEnvelope], logger: Logger) async throws {
        var events = SyncEventBatch()
        for envelope in batch {
            events.add(envelope.payload, sessionId: envelope.jobId)
        }
        let applied = try await log.apply(events)
        try await publisher.publishPending(of: applied.sessions)
        for session in applied.ended {
            logger.info("sync session ended", metadata: ["sync.session": "\(session)"])
        }
        if !applied.ended.isEmpty {
            _ = try await publisher.applyRetention(retention)
        }
        logger.debug(
            "recorded \(batch.count) sync events: \(applied.outcomesRecorded) new record outcomes in \(applied.sessions.count) sessions"
        )
    }
}
