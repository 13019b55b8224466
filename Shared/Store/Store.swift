import Foundation
import Logging
import PostgresKit
import SQLiteKit
import SQLKit

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
public final class Store: Sendable {
    public let location: StoreLocation
    public let flavor: SQLFlavor
    let database: any SQLDatabase
    private let closeConnection: @Sendable () async throws -> Void
    private let mutex = AsyncMutex()

    private init(location: StoreLocation, flavor: SQLFlavor, database: any SQLDatabase,
                 close: @escaping @Sendable () async throws -> Void) {
        self.location = location
        self.flavor = flavor
        self.database = database
        self.closeConnection = close
    }

    /// Connects, prepares the connection and creates any missing table.
    public static func open(_ location: StoreLocation, logger: Logger) async throws -> Store {
        let store: Store
        switch location {
        case .sqlite(let path):
            let url = URL(fileURLWithPath: path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                let connection = try await SQLiteConnection.open(storage: .file(path: url.path), logger: logger)
                store = Store(location: location, flavor: .sqlite, database: connection.sql(queryLogLevel: nil),
                              close: { try await connection.close() })
            } catch {
                throw StoreError.unreachable("cannot open the SQLite store \(url.path): \(error)")
            }
            // WAL lets readers work while one writer writes; a writer waits up to 30 s for another.
            // synchronous=NORMAL keeps every commit through a killed process (not a power cut).
            try await store.database.raw("PRAGMA journal_mode=WAL").run()
            try await store.database.raw("PRAGMA busy_timeout=30000").run()
            try await store.database.raw("PRAGMA synchronous=NORMAL").run()
        case .postgres(let url):
            do {
                let configuration = try SQLPostgresConfiguration(url: url)
                let connection = try await PostgresConnection.connect(
                    configuration: configuration.coreConfiguration, id: 1, logger: logger)
                store = Store(location: location, flavor: .postgres, database: connection.sql(queryLogLevel: nil),
                              close: { try await connection.close() })
            } catch {
                throw StoreError.unreachable("cannot connect to the PostgreSQL store \(location): \(String(reflecting: error))")
            }
        }
        try await StoreSchema.create(in: store)
        return store
    }

    /// Closes the connection; the store cannot be used afterwards.
    public func close() async {
        try? await closeConnection()
    }

    /// Runs `body` in one transaction: all of its changes are committed together, or none if it throws.
    public func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await mutex.withLock {
            // SQLite: take the write lock now, so two writers never deadlock upgrading a read lock.
            try await database.raw(flavor == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Runs `body` outside an explicit transaction (each statement commits on its own).
    public func withDatabase<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await mutex.withLock { try await body(database) }
    }
}
