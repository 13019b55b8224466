import JobstreamMessages

/// What the sync history recorder publishes: session summaries to the compacted history topic,
/// records to retry to the retries topic, and retention's tombstones. The services send them over
/// Kafka; unit tests record them. Each call returns once the broker has every message, and throws
/// if it does not (the marks stay, so the messages go out again later).
public protocol SyncMessenger: Sendable {
    /// Publishes each session's summary, keyed by session id.
    func publishSummaries(_ summaries: [(sessionId: String, entry: SyncHistoryEntry)]) async throws
    /// Publishes the retry requests of one session.
    func publishRetryRequests(_ requests: [SyncRetryRequest], of sessionId: String) async throws
    /// Publishes a tombstone for each session, so the compacted topic forgets it.
    func publishTombstones(of sessionIds: [String]) async throws
}
