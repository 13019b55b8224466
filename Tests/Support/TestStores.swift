import Foundation
import JobstreamStore
import Logging

/// The databases the store tests run on: a fresh SQLite file each time, and the PostgreSQL server
/// named by JOBSTREAM_TEST_POSTGRES_URL (`make test` and CI start one and set it).
///
/// Each suite names its own PostgreSQL database by a suffix (`make test` creates them), so suites
/// running at the same time never share tables.
public enum TestStores {
    /// The PostgreSQL URL for the suite with `suffix`, when the run has PostgreSQL.
    public static func postgresURL(_ suffix: String = "") -> String? {
        ProcessInfo.processInfo.environment["JOBSTREAM_TEST_POSTGRES_URL"].map { $0 + suffix }
    }

    /// The flavors a parametrized store test runs on.
    public static func flavors(_ suffix: String = "") -> [SQLFlavor] {
        postgresURL(suffix) == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    /// Opens a store of `flavor` with `tables` emptied, and the folder its SQLite file lives in
    /// (remove it when done).
    public static func open(
        _ flavor: SQLFlavor, database suffix: String = "",
        emptying tables: [String] = []
    ) async throws -> (Store, TemporaryFolder) {
        let folder = try TemporaryFolder()
        let location: StoreLocation =
            switch flavor {
            case .sqlite: .sqlite(path: folder.url.appendingPathComponent("store.sqlite").path)
            case .postgres: .postgres(url: postgresURL(suffix)!)
            }
        let store = try await Store.open(location, logger: Logger(label: "test"))
        do {
            try await store.withDatabase { database in
                for table in tables { try await database.raw("DELETE FROM \(ident: table)").run() }
            }
        } catch {
            await store.close()
            folder.remove()
            throw error
        }
        return (store, folder)
    }

    /// Runs `body` on a store opened as ``open(_:database:emptying:)`` does, and closes it (and removes
    /// its folder) however `body` ends.
    public static func with(
        _ flavor: SQLFlavor, database suffix: String = "", emptying tables: [String] = [],
        _ body: (Store) async throws -> Void
    ) async throws {
        let (store, folder) = try await open(flavor, database: suffix, emptying: tables)
        defer { folder.remove() }
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
