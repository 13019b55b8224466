import Foundation
import JobstreamMessages
import JobstreamStore
import Logging

/// Publishes what the sync history holds for the topics: waiting summaries (to the compacted sync
/// history topic), waiting retry requests (to the retries topic), and retention's tombstones.
///
/// A mark is cleared only after the broker acknowledged the message, so a crash in between publishes
/// it again (at least once). One publisher per process, one publication at a time: a summary never
/// overtakes a newer one of the same session from this process, nor a tombstone.
public final class SyncPublisher: Sendable {
    public let outbox: SyncOutbox
    private let messenger: any SyncMessenger
    private let logger: Logger
    private let serial = AsyncMutex()
    /// The most sessions read per round.
    private let pageSize = 500

    public init(store: Store, messenger: any SyncMessenger, logger: Logger) {
        self.outbox = SyncOutbox(store: store)
        self.messenger = messenger
        self.logger = logger
    }

    /// What one publication sent.
    public struct Published: Sendable, Equatable {
        public var summaries = 0
        public var retryRequests = 0
    }

    /// Publishes the waiting summaries and retry requests of `sessions`, or, with nil, of every session
    /// unchanged since `changedBefore` (the sweep for what another moment or instance left waiting).
    @discardableResult
    public func publishPending(of sessions: [String]?, changedBefore: Date? = nil) async throws -> Published {
        try await serial.withLock {
            var published = Published()
            while true {
                let waiting = try await outbox.pendingSummaries(of: sessions, changedBefore: changedBefore, limit: pageSize)
                let summaries = waiting.compactMap { session in session.summary.map { (sessionId: session.sessionId, entry: $0) }
                }
                if !summaries.isEmpty { try await messenger.publishSummaries(summaries) }
                try await outbox.summariesPublished(waiting)
                published.summaries += waiting.count
                if waiting.count < pageSize { break }
            }
            while true {
                let waiting = try await outbox.pendingRetries(of: sessions, changedBefore: changedBefore, limit: pageSize)
                for session in waiting {
                    let requests = try await outbox.retryRequests(for: session)
                    if !requests.isEmpty { try await messenger.publishRetryRequests(requests, of: session.sessionId) }
                    published.retryRequests += requests.count
                    logger.info(
                        "published \(requests.count) retry request(s) for \(session.status.rawValue) session \(session.sessionId)",
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
    public func applyRetention(_ retention: SyncRetention, now: Date = Date()) async throws -> SyncRetention.Deleted {
        try await serial.withLock {
            var total = SyncRetention.Deleted()
            while true {
                let expired = try await retention.expiredSessions(now: now, limit: pageSize)
                guard !expired.isEmpty else { break }
                try await messenger.publishTombstones(of: expired)
                let deleted = try await retention.delete(expired, now: now)
                total.sessions += deleted.sessions
                total.records += deleted.records
                total.crmIdChanges += deleted.crmIdChanges
            }
            if total.sessions > 0 {
                logger.info(
                    """
                    retention deleted \(total.sessions) session(s) finished \(retention.days) days ago or more, with \
                    \(total.records) record outcome(s) and \(total.crmIdChanges) CRM id change result(s)
                    """)
            }
            return total
        }
    }
}
