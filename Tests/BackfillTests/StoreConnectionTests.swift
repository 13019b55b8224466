import Foundation
import JobstreamTestSupport
import Logging
import SQLKit
import Synchronization
import Testing

@testable import JobstreamStore

/// A PostgreSQL store whose server ends its session: every call returns (an error or a result),
/// none waits forever, and the next call after the server is back goes through.
@Suite(
    "The store's connection when the server ends it", .serialized,
    .enabled(
        if: TestStores.postgresURL != nil,
        "JOBSTREAM_TEST_POSTGRES_URL is not set: these tests need a PostgreSQL server (make test sets it)"))
struct StoreConnectionTests {
    /// The outcome of `body`, or nil when it has not ended after `seconds` (the body is left behind).
    static func outcome<T: Sendable>(
        within seconds: Int, _ body: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        let first = Mutex<CheckedContinuation<Result<T, any Error>?, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            first.withLock { $0 = continuation }
            let finish: @Sendable (Result<T, any Error>?) -> Void = { result in
                first.withLock { waiting in
                    waiting?.resume(returning: result)
                    waiting = nil
                }
            }
            Task {
                do { finish(.success(try await body())) } catch { finish(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                finish(nil)
            }
        }
    }

    @Test("a transaction whose session the server ends fails (it does not hang), and the store reconnects")
    func sessionEndedInTransaction() async throws {
        let (store, folder) = try await TestStores.open(.postgres)
        defer { folder.remove() }
        for _ in 1...5 {
            let ended = await Self.outcome(within: 60) {
                try await store.transaction { database in
                    try await database.raw("SELECT pg_terminate_backend(pg_backend_pid())").run()
                }
            }
            let result = try #require(ended, "the transaction was still waiting after 60 s")
            #expect(throws: (any Error).self) { try result.get() }
            let next = try #require(
                await Self.outcome(within: 60) { try await store.ping() },
                "the call after the session ended was still waiting after 60 s")
            #expect(throws: Never.self) { try next.get() }
        }
        await store.close()
    }

    @Test("a session ended from outside while idle: the next call fails or goes through, and the one after goes through")
    func sessionEndedWhileIdle() async throws {
        let (store, folder) = try await TestStores.open(.postgres)
        let (admin, adminFolder) = try await TestStores.open(.postgres)
        defer {
            folder.remove()
            adminFolder.remove()
        }
        for _ in 1...5 {
            let pid = try await store.withDatabase { database in
                try await database.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int.self)
            }
            let backend = try #require(pid)
            try await admin.withDatabase { database in
                try await database.raw("SELECT pg_terminate_backend(\(bind: backend)::int)").run()
            }
            _ = try #require(
                await Self.outcome(within: 60) { try await store.ping() },
                "the first call after the session ended was still waiting after 60 s")
            let next = try #require(
                await Self.outcome(within: 60) { try await store.ping() },
                "the second call after the session ended was still waiting after 60 s")
            #expect(throws: Never.self) { try next.get() }
        }
        await admin.close()
        await store.close()
    }

    @Test("transactions in flight while the server ends the session, again and again: each ends, none waits forever")
    func sessionsEndedUnderLoad() async throws {
        let (store, folder) = try await TestStores.open(.postgres)
        let (admin, adminFolder) = try await TestStores.open(.postgres)
        defer {
            folder.remove()
            adminFolder.remove()
        }
        final class Tally: Sendable {
            let stop = Mutex(false), calls = Mutex(0), waiting = Mutex(0)
            /// The store's session as its last transaction saw it: only that one is ended (other
            /// suites use the same database at the same time).
            let backend = Mutex<(pid: Int, started: String)?>(nil)
        }
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for worker in 1...4 {
                group.addTask {
                    while !tally.stop.withLock({ $0 }) {
                        // A statement streaming rows, then one the server is busy with: the ending
                        // session catches each kind in flight.
                        let ended = await Self.outcome(within: 20) {
                            try await store.transaction { database in
                                let session = try await database.raw(
                                    """
                                    SELECT pid, backend_start::text AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()
                                    """
                                ).first()
                                let pid = try session?.decode(column: "pid", as: Int.self)
                                let started = try session?.decode(column: "started", as: String.self)
                                tally.backend.withLock { $0 = pid.flatMap { pid in started.map { (pid, $0) } } }
                                _ = try await database.raw("SELECT g FROM generate_series(1, \(bind: 500 * worker)) g").all()
                                try await database.raw("SELECT pg_sleep(0.01)").run()
                            }
                        }
                        tally.calls.withLock { $0 += 1 }
                        if ended == nil {
                            tally.waiting.withLock { $0 += 1 }
                            return
                        }
                    }
                }
            }
            group.addTask {
                for round in 0..<40 {
                    try? await Task.sleep(for: .milliseconds(20 + (round * 37) % 180))
                    guard let backend = tally.backend.withLock({ $0 }) else { continue }
                    try? await admin.withDatabase { database in
                        // By pid and start time, so a pid the system gave to another session meanwhile is spared.
                        try await database.raw(
                            """
                            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE pid = \(bind: backend.pid) AND backend_start::text = \(bind: backend.started)
                            """
                        ).run()
                    }
                }
                tally.stop.withLock { $0 = true }
            }
        }
        #expect(
            tally.waiting.withLock { $0 } == 0, "of \(tally.calls.withLock { $0 }) transactions, these still waited after 20 s")
        let after = try #require(await Self.outcome(within: 60) { try await store.ping() }, "the store still waited after 60 s")
        #expect(throws: Never.self) { try after.get() }
        await admin.close()
        await store.close()
    }

    @Test("opening the store beside a writer in a transaction does not wait for it (no DDL once the schema is complete)")
    func openingBesideAWriter() async throws {
        let (writer, folder) = try await TestStores.open(.postgres)
        defer { folder.remove() }
        #expect(try await StoreSchema.isComplete(in: writer))
        let opened = try await writer.transaction { database in
            // What a processor's or validator's transaction holds on the job tables.
            try await database.raw("LOCK TABLE backfill_jobs, migrations IN ROW EXCLUSIVE MODE").run()
            return await Self.outcome(within: 30) {
                let (store, other) = try await TestStores.open(.postgres)
                await store.close()
                other.remove()
            }
        }
        let result = try #require(opened, "opening the store waited 30 s for the writer's transaction")
        #expect(throws: Never.self) { try result.get() }
        await writer.close()
    }

    @Test("every CREATE statement of the schema is named, so a missing object is always noticed")
    func everyObjectNamed() {
        let creates = (StoreSchema.statements + StoreSchema.laterIndexes).filter { $0.contains("CREATE") }
        #expect(StoreSchema.objectNames.count == creates.count)
        #expect(Set(StoreSchema.objectNames).count == creates.count)
    }
}
