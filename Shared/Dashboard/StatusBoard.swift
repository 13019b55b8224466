import Foundation
import JobstreamMessages
import JobstreamStore
import JobstreamSync

/// The Sync History filter: From and To days (UTC, whole days) and an operation.
public typealias SyncFilter = SyncHistoryQuery.Filter

/// The three logs as the status topics tell them: the latest status event of every backfill, every
/// migration and every sync session, and a feed of which log changed for pages that update live.
///
/// Each dashboard instance keeps its own board, built by reading the compacted status topics from
/// their start, so instances need no shared state. Events of one job arrive in order (a status topic
/// is keyed by job id), so the latest one read is the job's state — unless it is numbered lower than
/// the one held (`sequence`): a late event of an owner that lost the job, which is ignored.
public actor StatusBoard {
    /// One of the three logs.
    public enum Log: String, Sendable, CaseIterable {
        case backfills, migrations, sync
    }

    private var backfills: [String: Envelope<BackfillStatusEvent>] = [:]
    private var migrations: [String: Envelope<MigrationStatusEvent>] = [:]
    private var syncSessions: [String: SyncSessionEntry] = [:]
    /// The sessions in Sync History order, kept as they change.
    private var syncIndex = SyncSessionIndex()
    private var subscribers: [UUID: AsyncStream<Log>.Continuation] = [:]
    private var closed = false

    /// Status events applied since the board was made.
    public private(set) var eventsApplied = 0

    public init() {}

    /// Takes in a status event; returns the log it changed, or nil for a message of another type or
    /// a stale one.
    @discardableResult
    public func apply(_ envelope: AnyEnvelope) -> Log? {
        guard let log = take(envelope) else { return nil }
        announce(log)
        return log
    }

    /// A change read from a status topic.
    public enum Change: Sendable {
        case event(AnyEnvelope)
        /// A sync session's summary was tombstoned after the retention period.
        case syncSessionRemoved(String)
    }

    /// Takes in a batch of changes read in order, in one call, and tells each changed log's readers
    /// once; returns the positions in `changes` of the events that changed nothing (not status
    /// events, or stale ones). A dashboard starting on topics of 100,000 sessions makes a hundred
    /// calls, not 100,000.
    public func apply(_ changes: [Change]) -> [Int] {
        var changed = Set<Log>()
        var ignored: [Int] = []
        for (position, change) in changes.enumerated() {
            switch change {
            case .event(let envelope):
                if let log = take(envelope) { changed.insert(log) } else { ignored.append(position) }
            case .syncSessionRemoved(let sessionId):
                if forget(sessionId) { changed.insert(.sync) }
            }
        }
        for log in Log.allCases where changed.contains(log) { announce(log) }
        return ignored
    }

    /// Keeps `envelope` if it is a status event newer than the one held; returns the log it changed.
    private func take(_ envelope: AnyEnvelope) -> Log? {
        let log: Log
        if let event = envelope.envelope(of: BackfillStatusEvent.self) {
            if Self.isStale(event.payload.sequence, comparedWith: backfills[event.jobId]?.payload.sequence) { return nil }
            backfills[event.jobId] = event
            log = .backfills
        } else if let event = envelope.envelope(of: MigrationStatusEvent.self) {
            if Self.isStale(event.payload.sequence, comparedWith: migrations[event.jobId]?.payload.sequence) { return nil }
            migrations[event.jobId] = event
            log = .migrations
        } else if let entry = envelope.envelope(of: SyncHistoryEntry.self) {
            let session = SyncSessionEntry(entry)
            let previous = syncSessions.updateValue(session, forKey: entry.jobId)
            if previous?.listing != session.listing {
                unlist(previous)
                if let listing = session.listing { syncIndex.insert(listing) }
            }
            log = .sync
        } else {
            return nil
        }
        eventsApplied += 1
        return log
    }

    /// Whether an event numbered `sequence` is older than the one held (events without a number are
    /// taken in the order they come).
    static func isStale(_ sequence: Int?, comparedWith held: Int?) -> Bool {
        guard let sequence, let held else { return false }
        return sequence < held
    }

    /// Forgets a sync session: its summary was tombstoned after the retention period.
    public func removeSyncSession(_ sessionId: String) {
        if forget(sessionId) { announce(.sync) }
    }

    private func forget(_ sessionId: String) -> Bool {
        guard let removed = syncSessions.removeValue(forKey: sessionId) else { return false }
        unlist(removed)
        return true
    }

    /// Every backfill, newest first.
    public func backfillList() -> [BackfillSummary] {
        backfills.map { BackfillSummary($0.value) }.sorted { ($0.sortDate, $0.jobId) > ($1.sortDate, $1.jobId) }
    }

    public func backfill(_ jobId: String) -> BackfillSummary? {
        backfills[jobId].map(BackfillSummary.init)
    }

    /// Every migration, newest first.
    public func migrationList() -> [MigrationSummary] {
        migrations.map { MigrationSummary($0.value) }.sorted { ($0.sortDate, $0.migrationId) > ($1.sortDate, $1.migrationId) }
    }

    public func migration(_ migrationId: String) -> MigrationSummary? {
        migrations[migrationId].map(MigrationSummary.init)
    }

    /// The newest `limit` sync sessions matching `filter` (newest start first), and how many match in all.
    /// The index finds the filter's range by binary search, so a page costs what it shows.
    public func syncHistory(_ filter: SyncFilter, limit: Int) -> (sessions: [SyncSessionSummary], matching: Int) {
        let bounds = filter.startedBounds
        let (ranks, matching) = syncIndex.newest(
            from: bounds.from, before: bounds.before, operation: filter.operation, limit: limit)
        let sessions = ranks.compactMap { syncSessions[$0.sessionId].map { SyncSessionSummary($0.envelope) } }
        return (sessions, matching)
    }

    private func unlist(_ session: SyncSessionEntry?) {
        if let listing = session?.listing { syncIndex.remove(listing) }
    }

    public func syncSession(_ sessionId: String) -> SyncSessionSummary? {
        syncSessions[sessionId].map { SyncSessionSummary($0.envelope) }
    }

    /// How many jobs of each log the board holds.
    public func counts() -> [Log: Int] {
        [.backfills: backfills.count, .migrations: migrations.count, .sync: syncSessions.count]
    }

    /// How many jobs of each log are in each status now, keyed by log and status name.
    public func statusCounts() -> [Log: [String: Int]] {
        var counts: [Log: [String: Int]] = [:]
        for event in backfills.values {
            counts[.backfills, default: [:]][event.payload.status.rawValue, default: 0] += 1
        }
        for event in migrations.values {
            counts[.migrations, default: [:]][event.payload.status.rawValue, default: 0] += 1
        }
        for entry in syncSessions.values {
            counts[.sync, default: [:]][entry.envelope.payload.status.rawValue, default: 0] += 1
        }
        return counts
    }

    /// The logs that change from now on, one element per change (the newest 64 kept for a slow reader).
    /// The stream ends when the board is closed.
    public func changes() -> AsyncStream<Log> {
        let (stream, continuation) = AsyncStream.makeStream(of: Log.self, bufferingPolicy: .bufferingNewest(64))
        guard !closed else {
            continuation.finish()
            return stream
        }
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        return stream
    }

    /// Ends every change stream, so that live pages' connections close before the server stops.
    public func close() {
        closed = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }

    /// How many change streams are open (the live pages connected).
    public var subscriberCount: Int { subscribers.count }

    private func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)
    }

    private func announce(_ log: Log) {
        for continuation in subscribers.values { continuation.yield(log) }
    }
}

/// A sync session on the board, with its start in epoch milliseconds (as the store keeps it) worked out once.
struct SyncSessionEntry: Sendable {
    let envelope: Envelope<SyncHistoryEntry>
    let startedMilliseconds: Int?

    init(_ envelope: Envelope<SyncHistoryEntry>) {
        self.envelope = envelope
        startedMilliseconds = envelope.payload.startedAt.map { $0.epochMilliseconds }
    }

    /// Where the Sync History list shows the session, if it does: once it has started.
    var listing: SyncSessionIndex.Listing? {
        guard let startedMilliseconds else { return nil }
        return SyncSessionIndex.Listing(
            rank: SyncSessionIndex.Rank(startedMilliseconds: startedMilliseconds, sessionId: envelope.jobId),
            operation: envelope.payload.operation)
    }
}
