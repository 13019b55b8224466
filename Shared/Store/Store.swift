import Foundation
import Logging
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization

/// The SQL dialect a store speaks; the few statements that differ ask for it.
public enum SQLFlavor: String, Sendable {
    case sqlite
    case postgres
}

/// The database of one process: the record store being backfilled and the durable job logs.
///
/// One connection per process, used one transaction at a time. Several processes share an SQLite
/// file (WAL journal, busy timeout, writers take the lock when the transaction begins) or a
/// PostgreSQL server (the answer when many processors write at once). The schema is created on open.
/// A PostgreSQL connection the server closed (a restart, a terminated backend) is opened again on
/// next use; the statement that found it closed fails, and the caller's retry goes through. No
/// PostgreSQL statement waits forever (``AnsweringDatabase``).
public final class Store: Sendable {
    public let location: StoreLocation
    public let flavor: SQLFlavor
    private let connection: Mutex<OpenConnection>
    private let mutex = AsyncMutex()
    private let logger: Logger

    /// How long a PostgreSQL statement may go unanswered before its connection is given up
    /// (``AnsweringDatabase``): far beyond any statement's work, short of waiting forever.
    public static let statementDeadline = Duration.seconds(300)

    /// A live connection and how to tell whether it is still open.
    private struct OpenConnection: Sendable {
        let database: any SQLDatabase
        let isClosed: @Sendable () -> Bool
        let close: @Sendable () async throws -> Void
    }

    private init(location: StoreLocation, flavor: SQLFlavor, connection: OpenConnection, logger: Logger) {
        self.location = location
        self.flavor = flavor
        self.connection = Mutex(connection)
        self.logger = logger
    }

    /// Connects, prepares the connection and creates any missing table.
    public static func open(_ location: StoreLocation, logger: Logger) async throws -> Store {
        let flavor: SQLFlavor = if case .sqlite = location { .sqlite } else { .postgres }
        let store = Store(
            location: location, flavor: flavor, connection: try await connect(location, logger: logger), logger: logger)
        do {
            try await StoreSchema.create(in: store)
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    private static func connect(_ location: StoreLocation, logger: Logger) async throws -> OpenConnection {
        switch location {
        case .sqlite(let path):
            let url = URL(fileURLWithPath: path)
            let connection: SQLiteConnection
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                connection = try await SQLiteConnection.open(storage: .file(path: url.path), logger: logger)
            } catch {
                throw StoreError.unreachable("cannot open the SQLite store \(url.path): \(error)")
            }
            let database = connection.sql(queryLogLevel: nil)
            // WAL lets readers work while one writer writes; a writer waits up to 30 s for another.
            // synchronous=NORMAL keeps every commit through a killed process (not a power cut).
            try await database.raw("PRAGMA journal_mode=WAL").run()
            try await database.raw("PRAGMA busy_timeout=30000").run()
            try await database.raw("PRAGMA synchronous=NORMAL").run()
            return OpenConnection(database: database, isClosed: { connection.isClosed }, close: { try await connection.close() })
        case .postgres(let url):
            do {
                let configuration = try SQLPostgresConfiguration(url: url)
                let connection = try await PostgresConnection.connect(
                    configuration: configuration.coreConfiguration, id: 1, logger: logger)
                let database = AnsweringDatabase(
                    connection.sql(queryLogLevel: nil), closed: connection.closeFuture,
                    deadline: .seconds(Int64(statementDeadline.components.seconds)),
                    close: { let _: EventLoopFuture<Void> = connection.close() })
                return OpenConnection(
                    database: database, isClosed: { connection.isClosed },
                    close: { try await connection.close() })
            } catch {
                throw StoreError.unreachable("cannot connect to the PostgreSQL store \(location): \(String(reflecting: error))")
            }
        }
    }

    /// Closes the connection; the store cannot be used afterwards.
    public func close() async {
        try? await connection.withLock { $0 }.close()
    }

    /// Runs `body` in one transaction: all of its changes are committed together, or none if it throws.
    public func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await mutex.withLock {
            let database = try await liveDatabase()
            // SQLite: take the write lock now, so two writers never deadlock upgrading a read lock.
            try await database.raw(flavor == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                if StoreFailure.endsSession(error) {
                    await dropConnection()
                } else {
                    try? await database.raw("ROLLBACK").run()
                }
                throw error
            }
        }
    }

    /// Runs `body` outside an explicit transaction (each statement commits on its own).
    public func withDatabase<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await mutex.withLock {
            do {
                return try await body(try await liveDatabase())
            } catch {
                if StoreFailure.endsSession(error) { await dropConnection() }
                throw error
            }
        }
    }

    /// Closes a connection whose session ended (the driver may not have noticed yet), so the next
    /// call connects again instead of failing on it too. Called holding `mutex`.
    private func dropConnection() async {
        let current = connection.withLock { $0 }
        if !current.isClosed() { try? await current.close() }
    }

    /// Asks the database a trivial query (reconnecting first if the server closed the connection);
    /// throws if it cannot be reached. Waits for a transaction in progress on this store.
    public func ping() async throws {
        try await withDatabase { try await $0.raw("SELECT 1").run() }
    }

    /// The connection, opened again first if the server closed it. Called holding `mutex`.
    private func liveDatabase() async throws -> any SQLDatabase {
        let current = connection.withLock { $0 }
        guard current.isClosed() else { return current.database }
        logger.warning("the store's connection was closed; connecting again", metadata: ["store": "\(location)"])
        let reopened = try await Self.connect(location, logger: logger)
        connection.withLock { $0 = reopened }
        return reopened.database
    }
}
