import Foundation
import JobstreamMessages
import JobstreamTestSupport
import Logging
import SQLKit
import Testing

@testable import JobstreamStore
@testable import JobstreamSync

/// The databases every sync store test runs on: a fresh SQLite file each time, and PostgreSQL.
///
/// PostgreSQL: the database of JOBSTREAM_TEST_POSTGRES_URL with `_sync` appended to its name
/// (`make test` creates it), so these tests never share tables with the other suites running at once.
enum SyncTestStores {
    static let postgresURL = TestStores.postgresURL("_sync")
    static let kinds = TestStores.flavors("_sync")
    static let tables = ["sync_sessions", "sync_records", "sync_crm_id_changes"]

    /// Runs `body` on an emptied store, and closes it however `body` ends.
    static func with(_ flavor: SQLFlavor, _ body: (Store) async throws -> Void) async throws {
        try await TestStores.with(flavor, database: "_sync", emptying: tables, body)
    }
}

@Suite("Sync history in the database", .serialized)
struct SyncStoreTests {
    @Test("CI runs these on PostgreSQL too")
    func postgresInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(SyncTestStores.postgresURL != nil, "CI must set JOBSTREAM_TEST_POSTGRES_URL")
        }
    }

    static func simulation(
        sessions: Int = 8, seed: UInt64 = 3, duplicates: Double = 0, shuffle: Bool = false,
        lastStart: Date = Timestamp.parse("2026-11-20T08:00:00Z")!
    ) -> [SyncSimulation.Session] {
        var settings = SyncSimulation.Settings()
        settings.sessions = sessions
        settings.recordsPerSession = 40
        settings.failureRate = 0.02
        settings.systemFailureRate = 0.25
        settings.duplicateRate = duplicates
        settings.shuffle = shuffle
        settings.seed = seed
        settings.lastStart = lastStart
        return SyncSimulation(settings).sessions()
    }

    /// Applies every event of `sessions`, interleaved across sessions, in batches of `batchSize`.
    static func record(
        _ sessions: [SyncSimulation.Session], in log: SyncHistoryLog, batchSize: Int, now: Date = Date()
    ) async throws {
        var all: [(String, any JobstreamMessage)] = []
        let longest = sessions.map(\.events.count).max() ?? 0
        for index in 0..<longest {
            for session in sessions where index < session.events.count {
                all.append((session.sessionId, session.events[index].payload))
            }
        }
        for start in stride(from: 0, to: all.count, by: batchSize) {
            var batch = SyncEventBatch()
            for (session, payload) in all[start..<min(start + batchSize, all.count)] {
                batch.add(payload, sessionId: session)
            }
            _ = try await log.apply(batch, now: now)
        }
    }

    /// What the history says of each session, without the bookkeeping columns.
    static func history(_ store: Store) async throws -> [String: SyncHistoryEntry] {
        let rows = try await store.withDatabase { database in
            try await database.raw("SELECT \(unsafeRaw: SyncSessionRecord.columns) FROM sync_sessions").all()
                .map(SyncSessionRecord.init(row:))
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.sessionId, $0.summary!) })
    }

    @Test("Each status, and the same history whatever the order, batching and duplicates", arguments: SyncTestStores.kinds)
    func orderAndDuplicates(flavor: SQLFlavor) async throws {
        let plain = Self.simulation()
        var expected: [String: SyncHistoryEntry] = [:]
        try await SyncTestStores.with(flavor) { store in
            try await Self.record(plain, in: SyncHistoryLog(store: store), batchSize: 1000)
            expected = try await Self.history(store)
        }
        #expect(Set(expected.values.map(\.status)) == [.finished, .finishedWithErrors, .failure])
        for session in plain {
            let entry = try #require(expected[session.sessionId])
            #expect(entry.status == session.expectedStatus, "\(session.sessionId)")
            #expect(entry.recordsSynced == session.recordsSynced && entry.recordsFailed == session.recordsFailed)
            #expect(entry.recordsToRetry == session.recordsToRetry && entry.crmIdChanges == session.crmIdChanges)
            #expect(entry.operation == session.operation && entry.startedAt == session.startedAt)
            #expect(entry.finishedAt == session.finishedAt)
        }
        for (seed, batchSize) in [(UInt64(11), 1), (12, 7), (13, 64)] {
            var shuffled = Self.simulation(duplicates: 0.3, shuffle: true)
            var generator = SplitMix64(seed: seed)
            for index in shuffled.indices { shuffled[index].events.shuffle(using: &generator) }
            try await SyncTestStores.with(flavor) { store in
                try await Self.record(shuffled, in: SyncHistoryLog(store: store), batchSize: batchSize)
                // Everything delivered again, as after a crash before the offsets were committed.
                try await Self.record(shuffled, in: SyncHistoryLog(store: store), batchSize: batchSize * 3)
                #expect(try await Self.history(store) == expected, "batches of \(batchSize)")
            }
        }
    }

    @Test("A session ended by its last outcome, after the finish arrived", arguments: SyncTestStores.kinds)
    func finishBeforeLastOutcome(flavor: SQLFlavor) async throws {
        try await SyncTestStores.with(flavor) { store in
            let log = SyncHistoryLog(store: store)
            func apply(_ events: [any JobstreamMessage]) async throws -> SyncHistoryLog.Applied {
                var batch = SyncEventBatch()
                for event in events { batch.add(event, sessionId: "s-1") }
                return try await log.apply(batch)
            }
            let outcome = { (id: String) in SyncRecordOutcome(objectType: "Account", objectId: id, success: true) }
            var applied = try await apply([SyncSessionFinished(finishedAt: Date(), recordCount: 2), outcome("A-1")])
            #expect(applied.ended.isEmpty)
            applied = try await apply([SyncSessionStarted(operation: .realTime, startedAt: Date()), outcome("A-1")])
            #expect(applied.ended.isEmpty, "a duplicate outcome does not count twice")
            applied = try await apply([outcome("A-2")])
            #expect(applied.ended == ["s-1"])
            let session = try #require(try await SyncHistoryQuery(store: store).session("s-1"))
            #expect(session.status == .finished && session.facts.recordsSynced == 2)
            applied = try await apply([outcome("A-2")])
            #expect(applied.ended.isEmpty, "an ended session does not end again")
        }
    }

    @Test("Retry requests: the retryable records in parts, the whole session after a Failure", arguments: SyncTestStores.kinds)
    func retryRequests(flavor: SQLFlavor) async throws {
        try await SyncTestStores.with(flavor) { store in
            let log = SyncHistoryLog(store: store)
            var batch = SyncEventBatch()
            batch.add(SyncSessionStarted(operation: .scheduled, startedAt: Date()), sessionId: "errors")
            for index in 0..<2500 {
                batch.add(
                    SyncRecordOutcome(
                        objectType: "Invoice", objectId: String(format: "INV-%05d", index), success: false,
                        errorCode: "UNABLE_TO_LOCK_ROW", retryable: true), sessionId: "errors")
            }
            batch.add(
                SyncRecordOutcome(
                    objectType: "Account", objectId: "A-1", success: false, errorCode: "INVALID_CRM_ACCOUNT_ID",
                    retryable: false), sessionId: "errors")
            batch.add(SyncRecordOutcome(objectType: "Account", objectId: "A-2", success: true), sessionId: "errors")
            batch.add(SyncSessionFinished(finishedAt: Date(), recordCount: 2502), sessionId: "errors")
            batch.add(SyncSessionStarted(operation: .manual, startedAt: Date()), sessionId: "failed")
            batch.add(SyncSessionFailed(failedAt: Date(), failure: .databaseConnection, reason: "refused"), sessionId: "failed")
            batch.add(SyncSessionStarted(operation: .manual, startedAt: Date()), sessionId: "running")
            _ = try await log.apply(batch)

            let outbox = SyncOutbox(store: store)
            let waiting = try await outbox.pendingRetries()
            #expect(Set(waiting.map(\.sessionId)) == ["errors", "failed"], "a running session asks for nothing")
            let errors = try #require(waiting.first { $0.sessionId == "errors" })
            #expect(errors.status == .finishedWithErrors && errors.recordsToRetry == 2500 && errors.recordsNeedingFix == 1)
            let parts = try await outbox.retryRequests(for: errors)
            #expect(parts.map(\.records.count) == [1000, 1000, 500])
            #expect(parts.map(\.part) == [1, 2, 3] && parts.allSatisfy { $0.partCount == 3 && $0.scope == .records })
            #expect(!parts.flatMap(\.records).contains { $0.objectId == "A-1" }, "a manual fix is not retried by itself")
            let whole = try await outbox.retryRequests(for: try #require(waiting.first { $0.sessionId == "failed" }))
            #expect(whole == [SyncRetryRequest(scope: .session, operation: .manual)])

            try await outbox.retriesPublished(waiting)
            #expect(try await outbox.pendingRetries().isEmpty)
            let failures = try await SyncHistoryQuery(store: store).failedRecords("errors", limit: 3)
            #expect(failures.map(\.objectId) == ["A-1", "INV-00000", "INV-00001"])
            #expect(failures.map(\.retryable) == [false, true, true])
            let page = try await SyncHistoryQuery(store: store).failedRecords("errors", after: ("Invoice", "INV-02498"))
            #expect(page.map(\.objectId) == ["INV-02499"])
        }
    }

    @Test("A summary mark is cleared only for the version published", arguments: SyncTestStores.kinds)
    func outboxVersions(flavor: SQLFlavor) async throws {
        try await SyncTestStores.with(flavor) { store in
            let log = SyncHistoryLog(store: store)
            let outbox = SyncOutbox(store: store)
            var batch = SyncEventBatch()
            batch.add(SyncRecordOutcome(objectType: "Account", objectId: "A-1", success: true), sessionId: "s")
            _ = try await log.apply(batch)
            #expect(try await outbox.pendingSummaries().isEmpty, "no summary before the operation is known")
            batch = SyncEventBatch()
            batch.add(SyncSessionStarted(operation: .onDemand, startedAt: Date()), sessionId: "s")
            _ = try await log.apply(batch)
            let read = try await outbox.pendingSummaries(of: ["s"])
            #expect(read.map(\.sessionId) == ["s"])
            batch = SyncEventBatch()
            batch.add(SyncRecordOutcome(objectType: "Account", objectId: "A-2", success: true), sessionId: "s")
            _ = try await log.apply(batch)
            try await outbox.summariesPublished(read)
            let still = try await outbox.pendingSummaries()
            #expect(still.map(\.facts.recordsSynced) == [2], "the newer version still waits")
            try await outbox.summariesPublished(still)
            #expect(try await outbox.pendingSummaries().isEmpty)
        }
    }

    @Test("Retention deletes sessions finished 30 days ago or more, with their detail rows", arguments: SyncTestStores.kinds)
    func retention(flavor: SQLFlavor) async throws {
        let now = Timestamp.parse("2026-11-23T10:00:00Z")!
        let day = 86_400.0
        let today = Timestamp.parse("2026-11-23T00:00:00Z")!
        try await SyncTestStores.with(flavor) { store in
            let log = SyncHistoryLog(store: store)
            // Finished on today - 30 (the last moment of that day) and on today - 29 (its first moment).
            let ends = ["old": today.addingTimeInterval(-29 * day - 0.001), "kept": today.addingTimeInterval(-29 * day)]
            for (id, end) in ends {
                var batch = SyncEventBatch()
                batch.add(SyncSessionStarted(operation: .cleanUp, startedAt: end.addingTimeInterval(-60)), sessionId: id)
                batch.add(
                    SyncRecordOutcome(
                        objectType: "Account", objectId: "A-1", success: true,
                        crmIdChange: CrmIdChange(previousCrmId: "001A", newCrmId: "001B")), sessionId: id)
                batch.add(
                    SyncRecordOutcome(objectType: "Account", objectId: "A-2", success: false, errorCode: "X"), sessionId: id)
                batch.add(SyncSessionFinished(finishedAt: end, recordCount: 2), sessionId: id)
                _ = try await log.apply(batch, now: end)
            }
            // Never finished, and nothing heard for 31 days.
            var batch = SyncEventBatch()
            batch.add(SyncRecordOutcome(objectType: "Account", objectId: "A-9", success: true), sessionId: "abandoned")
            _ = try await log.apply(batch, now: now.addingTimeInterval(-31 * day))
            try await SyncOutbox(store: store).summariesPublished(try await SyncOutbox(store: store).pendingSummaries())

            let retention = SyncRetention(store: store, days: 30)
            #expect(retention.cutoff(now: now) == today.addingTimeInterval(-29 * day))
            let expired = try await retention.expiredSessions(now: now)
            #expect(Set(expired) == ["old", "abandoned"])
            let deleted = try await retention.delete(expired, now: now)
            #expect(deleted == SyncRetention.Deleted(sessions: 2, records: 3, crmIdChanges: 1))
            let left = try await store.withDatabase { database in
                var counts: [String: [String]] = [:]
                for table in ["sync_sessions", "sync_records", "sync_crm_id_changes"] {
                    counts[table] = Set(
                        try await database.raw("SELECT session_id FROM \(ident: table)").all()
                            .map { try $0.decode(column: "session_id", as: String.self) }
                    ).sorted()
                }
                return counts
            }
            #expect(left == ["sync_sessions": ["kept"], "sync_records": ["kept"], "sync_crm_id_changes": ["kept"]])
            #expect(
                try await SyncRetention(store: store, days: 29).expiredSessions(now: now) == ["kept"], "the days are configurable"
            )
        }
    }

    @Test("The history filters by date range and operation, newest first, on an index", arguments: SyncTestStores.kinds)
    func historyFilters(flavor: SQLFlavor) async throws {
        try await SyncTestStores.with(flavor) { store in
            let log = SyncHistoryLog(store: store)
            let operations: [SyncOperation] = [.manual, .scheduled, .realTime]
            var batch = SyncEventBatch()
            for day in 1...9 {
                let start = Timestamp.parse("2026-11-0\(day)T23:30:00Z")!
                batch.add(SyncSessionStarted(operation: operations[day % 3], startedAt: start), sessionId: "day-\(day)")
            }
            _ = try await log.apply(batch)
            let query = SyncHistoryQuery(store: store)
            let all = try await query.history(.init())
            #expect(all.map(\.sessionId) == (1...9).reversed().map { "day-\($0)" })
            let range = try await query.history(.init(from: CalendarDate("2026-11-03"), to: CalendarDate("2026-11-05")))
            #expect(range.map(\.sessionId) == ["day-5", "day-4", "day-3"], "To includes its whole day")
            let scheduled = try await query.history(.init(from: CalendarDate("2026-11-02"), operation: .scheduled), limit: 2)
            #expect(scheduled.map(\.sessionId) == ["day-7", "day-4"])
            #expect(try await query.history(.init(operation: .cleanUp)).isEmpty)
            let plan = try await query.historyPlan(.init(from: CalendarDate("2026-11-02"), operation: .scheduled))
            #expect(
                plan.contains("sync_sessions_operation_started") || plan.contains("Seq Scan") && flavor == .postgres,
                "plan: \(plan)")
        }
    }

    @Test("Two recorders on one PostgreSQL database count every outcome once")
    func twoRecordersOnPostgres() async throws {
        guard let url = SyncTestStores.postgresURL else {
            Issue.record("JOBSTREAM_TEST_POSTGRES_URL is not set; this test needs PostgreSQL")
            return
        }
        _ = url
        let sessions = Self.simulation(sessions: 12, seed: 5, duplicates: 0.2, shuffle: true)
        try await SyncTestStores.with(.postgres) { first in
            let (second, folder) = try await TestStores.open(.postgres, database: "_sync")
            defer { folder.remove() }
            // Both get every event (as around a rebalance), in different batch sizes, at the same time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.record(sessions, in: SyncHistoryLog(store: first), batchSize: 13) }
                group.addTask { try await Self.record(sessions.reversed(), in: SyncHistoryLog(store: second), batchSize: 29) }
                try await group.waitForAll()
            }
            await second.close()
            let history = try await Self.history(first)
            #expect(history.count == sessions.count)
            for session in sessions {
                let entry = try #require(history[session.sessionId])
                #expect(entry.status == session.expectedStatus)
                #expect(entry.recordsSynced == session.recordsSynced && entry.recordsFailed == session.recordsFailed)
                #expect(entry.crmIdChanges == session.crmIdChanges && entry.recordsToRetry == session.recordsToRetry)
            }
        }
    }
}
