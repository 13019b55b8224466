import ArgumentParser
import BenchSupport
import Foundation
import JobstreamMessages
import JobstreamService
import JobstreamStore
import JobstreamSync
import Logging
import SQLKit

/// Tools for `make bench-sync`: the store's ceiling for recording outcomes, waiting for recorders to
/// finish a simulated backlog, and the filtered history query over many sessions.
@main
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-bench",
        abstract: "Sync history benchmark tools: recording ceiling, waiting for recorders, history query latency.",
        subcommands: [Ceiling.self, Decode.self, Wait.self, Query.self, Clear.self])

    static func openStore(_ options: StoreOptions) async throws -> Store {
        try await options.openStore(logger: LoggingSetup.bootstrap(label: "sync-bench", level: .warning))
    }

    struct Ceiling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record simulated sessions straight into the store with the recorder's code, no Kafka.",
            discussion: "The same batches a recorder would make (--batch-size events each), in this process. Prints outcomes/s.")

        @OptionGroup var storeOptions: StoreOptions
        @Option var sessions: Int = 100
        @Option var records: Int = 10_000
        @Option(name: .customLong("batch-size")) var batchSize: Int = 5000

        func run() async throws {
            let store = try await SyncBench.openStore(storeOptions)
            var settings = SyncSimulation.Settings()
            settings.sessions = sessions
            settings.recordsPerSession = records
            settings.failureRate = 0.01
            settings.sessionPrefix = "ceiling-" + UUID().uuidString.prefix(6).lowercased()
            let planned = SyncSimulation(settings).sessions()
            let log = SyncHistoryLog(store: store)
            let start = ContinuousClock.now
            var outcomes = 0
            var batch = SyncEventBatch(), inBatch = 0
            for session in planned {
                for event in session.events {
                    batch.add(event.payload, sessionId: session.sessionId)
                    inBatch += 1
                    if inBatch == batchSize {
                        outcomes += try await log.apply(batch).outcomesRecorded
                        batch = SyncEventBatch()
                        inBatch = 0
                    }
                }
            }
            outcomes += try await log.apply(batch).outcomesRecorded
            let seconds = (ContinuousClock.now - start).seconds
            await store.close()
            print(
                String(
                    format: "ceiling: %d record outcomes in %.2f s = %.0f outcomes/s (%@)", outcomes, seconds,
                    Double(outcomes) / seconds, store.location.description))
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a simulated session's events as a recorder does (MessageCodec.decode), in memory.",
            discussion: "Encodes --records events once, then decodes them all --rounds times. Prints messages/s.")

        @Option var records: Int = 100_000
        @Option var rounds: Int = 5

        func run() throws {
            var settings = SyncSimulation.Settings()
            settings.sessions = 1
            settings.recordsPerSession = records
            settings.failureRate = 0.01
            var messages: [[UInt8]] = []
            for session in SyncSimulation(settings).sessions() {
                for event in session.events {
                    messages.append(try MessageCodec.encode(event.payload, jobId: session.sessionId))
                }
            }
            let start = ContinuousClock.now
            var decoded = 0
            for _ in 0..<rounds {
                for message in messages where (try? MessageCodec.decode(message)) != nil { decoded += 1 }
            }
            let seconds = (ContinuousClock.now - start).seconds
            print(
                String(
                    format: "decode: %d of %d messages in %.2f s = %.0f messages/s", decoded, messages.count * rounds,
                    seconds, Double(messages.count * rounds) / seconds))
        }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait until every session whose id starts with PREFIX has ended; print the outcomes recorded.")

        @OptionGroup var storeOptions: StoreOptions
        @Option var prefix: String
        @Option var sessions: Int
        @Option var timeout: Int = 1800

        func run() async throws {
            let store = try await SyncBench.openStore(storeOptions)
            let deadline = ContinuousClock.now + .seconds(timeout)
            let pattern = prefix + "%"
            while true {
                let row = try await store.withDatabase { database in
                    try await database.raw(
                        """
                        SELECT COUNT(*) AS ended, CAST(COALESCE(SUM(records_synced + records_failed), 0) AS BIGINT) AS outcomes
                        FROM sync_sessions WHERE session_id LIKE \(bind: pattern) AND status <> 'Running'
                        """
                    ).first()
                }
                let ended = try row?.decode(column: "ended", as: Int.self) ?? 0
                if ended >= sessions {
                    print(try row?.decode(column: "outcomes", as: Int.self) ?? 0)
                    break
                }
                guard ContinuousClock.now < deadline else {
                    throw ValidationError("only \(ended) of \(sessions) sessions ended within \(timeout) s")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            await store.close()
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill the history with N sessions (once), then time the filtered Sync History query.",
            discussion:
                "Each query: a random 7-day window and a random operation, newest 50 first. Prints percentiles and the plan.")

        @OptionGroup var storeOptions: StoreOptions
        @Option var sessions: Int = 1_000_000
        @Option var queries: Int = 500

        func run() async throws {
            let store = try await SyncBench.openStore(storeOptions)
            let existing = try await store.withDatabase { database in
                try await database.raw("SELECT COUNT(*) AS n FROM sync_sessions WHERE session_id LIKE 'bench-q-%'").first()?
                    .decode(column: "n", as: Int.self) ?? 0
            }
            // One session a minute, back from now: 1,000,000 sessions cover about 694 days.
            let now = Date().epochMilliseconds
            if existing < sessions {
                let fill = ContinuousClock.now
                try await SyncBench.fill(store, sessions: sessions, endingAt: now)
                print(String(format: "filled %d sessions in %.1f s", sessions, (ContinuousClock.now - fill).seconds))
            }
            let query = SyncHistoryQuery(store: store)
            let today = CalendarDate(daysSinceEpoch: now / 86_400_000)!
            var random = SplitMix64(seed: 42)
            let span = max(7, sessions / 1440)
            var latencies: [Double] = []
            var rows = 0
            var sample = SyncHistoryQuery.Filter()
            for index in 0..<queries {
                let from = today.adding(days: -Int(random.next() % UInt64(span)))!
                let filter = SyncHistoryQuery.Filter(
                    from: from, to: from.adding(days: 6),
                    operation: SyncOperation.allCases[Int(random.next() % 5)])
                if index == 0 { sample = filter }
                let start = ContinuousClock.now
                rows += try await query.history(filter, limit: 50).count
                latencies.append((ContinuousClock.now - start).seconds * 1000)
            }
            latencies.sort()
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            print(
                String(
                    format:
                        "history query over %d sessions (%@): %d queries, %d rows; p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms",
                    sessions, store.flavor.rawValue, queries, rows, percentile(0.5), percentile(0.95), percentile(0.99),
                    latencies.last ?? 0))
            print("plan: \(try await query.historyPlan(sample))")
            await store.close()
        }
    }

    /// Inserts `sessions` ended sessions, one a minute back from `endingAt`, in one statement.
    static func fill(_ store: Store, sessions: Int, endingAt: Int) async throws {
        let operations = SyncOperation.allCases.map { "'\($0.rawValue)'" }
        let operation =
            "CASE n % 5 " + operations.enumerated().map { "WHEN \($0.offset) THEN \($0.element)" }.joined(separator: " ") + " END"
        let series =
            store.flavor == .sqlite
            ? "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < \(sessions)) SELECT n FROM s"
            : "SELECT CAST(generate_series(1, \(sessions)) AS BIGINT) AS n"
        try await store.withDatabase { database in
            try await database.raw("DELETE FROM sync_sessions WHERE session_id LIKE 'bench-q-%'").run()
            let insert = """
                INSERT INTO sync_sessions (session_id, operation, started_at, finish_reported_at, records_expected, status,
                    finished_at, records_synced, records_failed, changed_at)
                SELECT 'bench-q-' || n, \(operation), \(endingAt) - n * 60000, \(endingAt) - n * 60000 + 30000, 100,
                    CASE WHEN n % 10 = 0 THEN 'Finished with Errors' ELSE 'Finished' END, \(endingAt) - n * 60000 + 30000,
                    CASE WHEN n % 10 = 0 THEN 97 ELSE 100 END, CASE WHEN n % 10 = 0 THEN 3 ELSE 0 END, \(endingAt)
                FROM (\(series)) AS numbers
                """
            try await database.raw("\(unsafeRaw: insert)").run()
            if store.flavor == .postgres {
                try await database.raw("ANALYZE sync_sessions").run()
            }
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the whole sync history.")

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let store = try await SyncBench.openStore(storeOptions)
            try await store.withDatabase { database in
                for table in ["sync_sessions", "sync_records", "sync_crm_id_changes"] {
                    try await database.raw("DELETE FROM \(ident: table)").run()
                }
            }
            await store.close()
        }
    }
}
