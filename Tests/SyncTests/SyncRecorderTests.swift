import Foundation
import JobstreamMessages
import JobstreamStore
import JobstreamSync
import Logging
import Synchronization
import Testing

/// Records what the recorder publishes instead of sending it; fails every call while `away` is set,
/// as a broker out of reach would.
final class RecordingSyncMessenger: SyncMessenger {
    struct BrokerAway: Error {}
    struct State {
        var summaries: [(sessionId: String, entry: SyncHistoryEntry)] = []
        var retries: [String: [SyncRetryRequest]] = [:]
        var tombstones: [String] = []
        var away = false
    }

    let state = Mutex(State())

    func publishSummaries(_ summaries: [(sessionId: String, entry: SyncHistoryEntry)]) async throws {
        try state.withLock { state in
            if state.away { throw BrokerAway() }
            state.summaries += summaries
        }
    }

    func publishRetryRequests(_ requests: [SyncRetryRequest], of sessionId: String) async throws {
        try state.withLock { state in
            if state.away { throw BrokerAway() }
            state.retries[sessionId, default: []] += requests
        }
    }

    func publishTombstones(of sessionIds: [String]) async throws {
        try state.withLock { state in
            if state.away { throw BrokerAway() }
            state.tombstones += sessionIds
        }
    }
}

/// The recorder's per-batch logic, without a broker: what is published after each batch, that a
/// replayed batch publishes nothing new, and that what a broker outage held back goes out later.
@Suite("Sync recorder logic")
struct SyncRecorderTests {
    static func recorder(_ store: Store, _ messenger: RecordingSyncMessenger) -> SyncRecorder {
        let logger = Logger(label: "test")
        return SyncRecorder(
            log: SyncHistoryLog(store: store), publisher: SyncPublisher(store: store, messenger: messenger, logger: logger),
            retention: SyncRetention(store: store, days: 30))
    }

    /// Every event of `sessions` as the recorder receives it: encoded, then decoded.
    static func envelopes(_ sessions: [SyncSimulation.Session]) throws -> [AnyEnvelope] {
        func encode<Payload: JobstreamMessage>(_ payload: Payload, _ sessionId: String, _ time: Date) throws -> [UInt8] {
            try MessageCodec.encode(payload, jobId: sessionId, time: time)
        }
        var envelopes: [AnyEnvelope] = []
        for session in sessions {
            for event in session.events {
                let payload = event.payload
                envelopes.append(try MessageCodec.decode(try encode(payload, session.sessionId, event.time)))
            }
        }
        return envelopes
    }

    @Test("each session's final summary is published, and records to retry are requested")
    func publishesWhatChanged() async throws {
        try await SyncTestStores.with(.sqlite) { store in
            let messenger = RecordingSyncMessenger()
            let sessions = SyncStoreTests.simulation(sessions: 6, seed: 11, lastStart: Date())
            try await Self.recorder(store, messenger).record(try Self.envelopes(sessions), logger: Logger(label: "test"))
            let published = messenger.state.withLock { $0 }
            for session in sessions {
                let latest = try #require(published.summaries.last { $0.sessionId == session.sessionId }, "\(session.sessionId)")
                #expect(latest.entry.status == session.expectedStatus)
                #expect(latest.entry.recordsFailed == session.recordsFailed)
                #expect(
                    (published.retries[session.sessionId] ?? []).isEmpty
                        == (session.recordsToRetry == 0 && session.expectedStatus != .failure),
                    "\(session.sessionId): \(session.expectedStatus)")
            }
        }
    }

    @Test("a batch replayed after a crash changes nothing: the same summaries, no retry request twice")
    func replayChangesNothing() async throws {
        try await SyncTestStores.with(.sqlite) { store in
            let messenger = RecordingSyncMessenger()
            let batch = try Self.envelopes(SyncStoreTests.simulation(sessions: 6, seed: 4, lastStart: Date()))
            let recorder = Self.recorder(store, messenger)
            try await recorder.record(batch, logger: Logger(label: "test"))
            let first = messenger.state.withLock { $0 }
            try await recorder.record(batch, logger: Logger(label: "test"))
            let second = messenger.state.withLock { $0 }
            #expect(first.retries.values.reduce(0) { $0 + $1.count } > 0, "the simulation has records to retry")
            #expect(second.retries.mapValues(\.count) == first.retries.mapValues(\.count))
            let latest = { (state: RecordingSyncMessenger.State) in
                Dictionary(state.summaries.map { ($0.sessionId, $0.entry) }, uniquingKeysWith: { $1 })
            }
            #expect(latest(second) == latest(first))
        }
    }

    @Test("summaries held back by a broker outage are published once it is back, none lost")
    func outageHoldsBackThenPublishes() async throws {
        try await SyncTestStores.with(.sqlite) { store in
            let messenger = RecordingSyncMessenger()
            messenger.state.withLock { $0.away = true }
            let sessions = SyncStoreTests.simulation(sessions: 4, seed: 9, lastStart: Date())
            let recorder = Self.recorder(store, messenger)
            await #expect(throws: RecordingSyncMessenger.BrokerAway.self) {
                try await recorder.record(try Self.envelopes(sessions), logger: Logger(label: "test"))
            }
            messenger.state.withLock { $0.away = false }
            let published = try await recorder.publisher.publishPending(of: nil)
            #expect(published.summaries == sessions.count)
            let ids = Set(messenger.state.withLock { $0.summaries.map(\.sessionId) })
            #expect(ids == Set(sessions.map(\.sessionId)))
        }
    }

    @Test("retention tombstones a session before deleting it")
    func retentionTombstonesFirst() async throws {
        try await SyncTestStores.with(.sqlite) { store in
            let messenger = RecordingSyncMessenger()
            let old = SyncStoreTests.simulation(sessions: 2, seed: 2, lastStart: Date().addingTimeInterval(-40 * 86_400))
            let recorder = Self.recorder(store, messenger)
            try await recorder.record(try Self.envelopes(old), logger: Logger(label: "test"))
            let tombstoned = messenger.state.withLock { $0.tombstones }
            #expect(Set(tombstoned) == Set(old.map(\.sessionId)), "sessions ended 40 days ago are past 30 days' retention")
            #expect(try await SyncStoreTests.history(store).isEmpty)
        }
    }
}
