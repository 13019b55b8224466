import ArgumentParser
import Foundation
import JobstreamFiles
import JobstreamObjectStore
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
            "Where uploaded and result files live, shared by the CLI and the services: a folder, or s3://bucket/prefix.",
            discussion: """
                Defaults to $JOBSTREAM_FILE_STORE, else \(FileStore.defaultRoot). An s3:// store is any \
                S3-compatible object store (--s3-endpoint, --s3-region); its credentials are read from \
                $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN, never from a flag.
                """,
            valueName: "folder|s3://bucket/prefix"))
    public var fileStore: String = Settings.value("file-store", default: FileStore.defaultRoot)

    @Option(
        name: .customLong("scratch-folder"),
        help: ArgumentHelp(
            "With an s3:// file store, the local folder for files being written or read (none is kept there).",
            discussion: "Defaults to $JOBSTREAM_SCRATCH_FOLDER, else \(FileStore.defaultRoot).", valueName: "folder"))
    public var scratchFolder: String = Settings.value("scratch-folder", default: FileStore.defaultRoot)

    @Option(
        name: .customLong("s3-endpoint"),
        help: ArgumentHelp(
            "The object store's address, for an s3:// file store.",
            discussion: """
                Defaults to $JOBSTREAM_S3_ENDPOINT, $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL, else AWS S3 in \
                the region (https://s3.REGION.amazonaws.com). Requests use path-style addresses.
                """,
            valueName: "url"))
    public var s3Endpoint: String =
        Settings.value("s3-endpoint") ?? Self.environment(["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]) ?? ""

    @Option(
        name: .customLong("s3-region"),
        help: ArgumentHelp(
            "The object store's region, for signing requests.",
            discussion: "Defaults to $JOBSTREAM_S3_REGION, $AWS_REGION or $AWS_DEFAULT_REGION, else us-east-1.",
            valueName: "region"))
    public var s3Region: String =
        Settings.value("s3-region") ?? Self.environment(["AWS_REGION", "AWS_DEFAULT_REGION"]) ?? "us-east-1"

    public init() {}

    public func validate() throws {
        do {
            _ = try StoreLocation(parsing: store)
        } catch {
            throw ValidationError("--store: \(error)")
        }
        if S3Address.isS3(fileStore) {
            do { _ = try S3Address(parsing: fileStore) } catch { throw ValidationError("--file-store: \(error)") }
        }
    }

    /// Opens the database (creating missing tables).
    public func openStore(logger: Logger) async throws -> Store {
        try await Store.open(try StoreLocation(parsing: store), logger: logger)
    }

    /// The file store: the folder, or the object store with the scratch folder beside it. Only the
    /// commands that use files ask for it, so only they need an object store's credentials.
    public func files() throws -> FileStore {
        guard S3Address.isS3(fileStore) else { return FileStore(root: fileStore) }
        return FileStore(root: scratchFolder, objects: try objectStorage())
    }

    /// The object store an s3:// file store names, on the process's shared HTTP client.
    public func objectStorage() throws -> S3ObjectStorage {
        let address = try S3Address(parsing: fileStore)
        let environment = ProcessInfo.processInfo.environment
        guard let accessKey = environment["AWS_ACCESS_KEY_ID"], !accessKey.isEmpty,
            let secretKey = environment["AWS_SECRET_ACCESS_KEY"], !secretKey.isEmpty
        else {
            throw S3AddressProblem("\(address) needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        let endpointText = s3Endpoint.isEmpty ? "https://s3.\(s3Region).amazonaws.com" : s3Endpoint
        guard let endpoint = URL(string: endpointText), ["http", "https"].contains(endpoint.scheme ?? ""), endpoint.host != nil
        else {
            throw S3AddressProblem("--s3-endpoint \"\(endpointText.prefix(80))\" is not an http(s) address")
        }
        let credentials = SigV4Signer.Credentials(
            accessKey: accessKey, secretKey: secretKey,
            sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        let client = S3Client(endpoint: endpoint, region: s3Region, credentials: credentials, http: .shared)
        return S3ObjectStorage(client: client, address: address)
    }

    private static func environment(_ names: [String]) -> String? {
        names.lazy.compactMap { ProcessInfo.processInfo.environment[$0] }.first { !$0.isEmpty }
    }
}

/// With an s3:// file store, `/ready` checks that its bucket is there and may be used, so a typo or
/// a missing permission shows before any job needs a file (with a folder store it is always ready).
public struct FileStoreReadiness: Service, ReadinessCheck {
    public let files: FileStore

    public init(files: FileStore) {
        self.files = files
    }

    public func run() async throws {
        try? await gracefulShutdown()
    }

    public var readinessName: String { "file store" }

    public func checkReadiness() async throws {
        try await files.objects?.checkReachable()
    }
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
