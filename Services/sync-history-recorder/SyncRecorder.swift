import Foundation
import JobstreamMessages
import JobstreamService
import JobstreamStore
import JobstreamSync
import Logging

/// Records each consumed batch of sync events and publishes what changed.
///
/// Per batch: one transaction records it (``SyncHistoryLog``); then the touched sessions' summaries
/// and any retry requests go out; when a session ended — a sync cycle — retention runs. Only then is
/// the batch marked processed, so a crash at any point replays it, and replaying changes nothing.
struct SyncRecorder: Sendable {
    let log: SyncHistoryLog
    let publisher: SyncPublisher
    let retention: SyncRetention

    @Sendable func handle(_ batch: [ReceivedMessage], _ logger: Logger) async throws {
        var events = SyncEventBatch()
        for received in batch {
            events.add(received.envelope.payload, sessionId: received.envelope.jobId)
        }
        let applied = try await log.apply(events)
        try await publisher.publishPending(of: applied.sessions)
        for session in applied.ended {
            logger.info("sync session ended", metadata: ["sync.session": "\(session)"])
        }
        if !applied.ended.isEmpty {
            _ = try await publisher.applyRetention(retention)
        }
        logger.debug("recorded \(batch.count) sync events: \(applied.outcomesRecorded) new record outcomes in \(applied.sessions.count) sessions")
    }
}
