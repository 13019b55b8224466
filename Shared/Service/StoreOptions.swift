import ArgumentParser
import Foundation
import JobstreamFiles
import JobstreamStore
import Logging
import ServiceLifecycle

/// The command-line options that say where the database and the file store are.
public struct StoreOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "The database: an SQLite file path, or postgres://user:password@host:port/database.",
            discussion: "Defaults to $JOBSTREAM_STORE, else \(StoreLocation.defaultSQLitePath).",
            valueName: "location"))
    public var store: String = Settings.value("store", default: StoreLocation.defaultSQLitePath)

    @Option(
        name: .customLong("file-store"),
        help: ArgumentHelp(
            "The folder holding uploaded and result files, shared by the CLI and the services.",
            discussion: "Defaults to $JOBSTREAM_FILE_STORE, else \(FileStore.defaultRoot).",
            valueName: "folder"))
    public var fileStore: String = Settings.value("file-store", default: FileStore.defaultRoot)

    public init() {}

    public func validate() throws {
        do {
            _ = try StoreLocation(parsing: store)
        } catch {
            throw ValidationError("--store: \(error)")
        }
    }

    /// Opens the database (creating missing tables).
    public func openStore(logger: Logger) async throws -> Store {
        try await Store.open(try StoreLocation(parsing: store), logger: logger)
    }

    public var files: FileStore { FileStore(root: fileStore) }
}

/// Keeps a service's store open while the service runs and closes it at shutdown, after the
/// services that use it have stopped (list it before them in a ``ServiceStage``). `/ready` asks
/// the database a trivial query through it.
public struct StoreLifetime: Service, ReadinessCheck {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }

    public var readinessName: String { "store" }

    public func checkReadiness() async throws {
        try await store.ping()
    }
}
