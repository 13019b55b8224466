// swift-tools-version:6.2
import PackageDescription

/// Every target is built in Swift 6 language mode with the same upcoming features, and a warning
/// fails the build.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

/// A service executable under `Services/<name>`: wiring of library targets on the shared service runtime.
func service(_ name: String, extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "JobstreamService",
            "JobstreamMessages",
            "Kafka",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ] + extra,
        path: "Services/\(name)",
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "jobstream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "backfill-validator", targets: ["backfill-validator"]),
        .executable(name: "backfill-processor", targets: ["backfill-processor"]),
        .executable(name: "migration-runner", targets: ["migration-runner"]),
        .executable(name: "sync-history-recorder", targets: ["sync-history-recorder"]),
        .executable(name: "jobstream", targets: ["jobstream"]),
        .executable(name: "dashboard", targets: ["dashboard"]),
        .executable(name: "fuzz-csv", targets: ["fuzz-csv"]),
        .executable(name: "fuzz-envelope", targets: ["fuzz-envelope"]),
        // The libraries, for the benchmark tools in Benchmarks/ (a package of their own).
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "JobstreamMessages", targets: ["JobstreamMessages"]),
        .library(name: "JobstreamStore", targets: ["JobstreamStore"]),
        .library(name: "JobstreamService", targets: ["JobstreamService"]),
        .library(name: "JobstreamBackfill", targets: ["JobstreamBackfill"]),
        .library(name: "JobstreamMigration", targets: ["JobstreamMigration"]),
        .library(name: "JobstreamSync", targets: ["JobstreamSync"]),
        .library(name: "JobstreamWebhooks", targets: ["JobstreamWebhooks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // The C interop module: librdkafka's header, found through pkg-config.
        .systemLibrary(
            name: "CRDKafka",
            path: "Shared/CRDKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The Swift Kafka layer: the only code that touches CRDKafka.
        .target(
            name: "Kafka",
            dependencies: [
                "CRDKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Kafka",
            swiftSettings: swiftSettings
        ),
        // The message library: envelopes, codecs, status enums, topic names and settings.
        .target(
            name: "JobstreamMessages",
            path: "Shared/Messages",
            swiftSettings: swiftSettings
        ),
        // What every service shares: settings, the consume loop, dead letters, the store, logs, and
        // the operations port (metrics, health, readiness).
        .target(
            name: "JobstreamService",
            dependencies: [
                "Kafka",
                "JobstreamMessages",
                "JobstreamStore",
                "JobstreamFiles",
                "JobstreamObjectStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Service",
            swiftSettings: swiftSettings
        ),
        // The database: the record store being backfilled and the durable job logs (SQLite or PostgreSQL).
        .target(
            name: "JobstreamStore",
            dependencies: [
                "JobstreamMessages",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Shared/Store",
            swiftSettings: swiftSettings
        ),
        // Streaming CSV reading and writing with bounds, on its own so that it can be fuzzed alone.
        .target(
            name: "JobstreamCSV",
            path: "Shared/CSV",
            swiftSettings: swiftSettings
        ),
        // Files: the file store (uploads and results, every path checked), an upload's checks (size,
        // MD5, the one `.csv` in a zip, unpacked with bounds) and the bounds files are held to.
        .target(
            name: "JobstreamFiles",
            dependencies: [
                "JobstreamCSV",
                "JobstreamMessages",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Shared/Files",
            swiftSettings: swiftSettings
        ),
        // Backfill work without Kafka: actions, validation, applying rows, result files.
        .target(
            name: "JobstreamBackfill",
            dependencies: [
                "JobstreamCSV",
                "JobstreamFiles",
                "JobstreamMessages",
                "JobstreamStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Shared/Backfill",
            swiftSettings: swiftSettings
        ),
        // Migration work without Kafka: revenue schedules from charges, slice plans, generating a slice.
        .target(
            name: "JobstreamMigration",
            dependencies: [
                "JobstreamMessages",
                "JobstreamStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Shared/Migration",
            swiftSettings: swiftSettings
        ),
        // Sync history without Kafka: session facts and statuses, recording batches, publishing marks,
        // retention, queries, and the sync-engine simulator.
        .target(
            name: "JobstreamSync",
            dependencies: [
                "JobstreamMessages",
                "JobstreamStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Shared/Sync",
            swiftSettings: swiftSettings
        ),
        // Object storage: the AWS Signature Version 4 signer and a small S3 client (async-http-client).
        .target(
            name: "JobstreamObjectStore",
            dependencies: [
                "JobstreamFiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/ObjectStore",
            swiftSettings: swiftSettings
        ),
        // Webhooks: the signature, sending with async-http-client, and the deliverer of the outbox.
        .target(
            name: "JobstreamWebhooks",
            dependencies: [
                "JobstreamMessages",
                "JobstreamStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/Webhooks",
            swiftSettings: swiftSettings
        ),
        service(
            "backfill-validator",
            extra: [
                "JobstreamStore", "JobstreamBackfill", "JobstreamCSV", "JobstreamFiles", "JobstreamWebhooks",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        service("backfill-processor", extra: ["JobstreamStore", "JobstreamBackfill"]),
        service(
            "migration-runner",
            extra: [
                "JobstreamStore", "JobstreamMigration", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        service(
            "sync-history-recorder",
            extra: ["JobstreamStore", "JobstreamSync", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // The web dashboard without Kafka: the views built from status events, HTML pages, the JSON
        // API, operator tokens and the routes that serve them.
        .target(
            name: "JobstreamDashboard",
            dependencies: [
                "JobstreamBackfill",
                "JobstreamMessages",
                "JobstreamMigration",
                "JobstreamStore",
                "JobstreamFiles",
                "JobstreamCSV",
                "JobstreamSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Shared/Dashboard",
            resources: [.embedInCode("openapi.json")],
            swiftSettings: swiftSettings
        ),
        service(
            "dashboard",
            extra: [
                "JobstreamStore", "JobstreamBackfill", "JobstreamMigration", "JobstreamSync", "JobstreamDashboard",
                "JobstreamFiles", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        service(
            "jobstream",
            extra: [
                "JobstreamStore", "JobstreamBackfill", "JobstreamCSV", "JobstreamFiles", "JobstreamMigration", "JobstreamSync",
                "JobstreamDashboard", "JobstreamObjectStore",
            ]),
        // What the fuzzers check on one input, and the two fuzzers (`make fuzz`); built without the
        // fuzzer, each replays the files it is given. They need only the CSV reader and the codec.
        .target(
            name: "JobstreamFuzzTargets",
            dependencies: ["JobstreamCSV", "JobstreamMessages"],
            path: "Tests/Fuzz/Targets",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fuzz-csv", dependencies: ["JobstreamFuzzTargets"], path: "Tests/Fuzz/fuzz-csv",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "fuzz-envelope", dependencies: ["JobstreamFuzzTargets"], path: "Tests/Fuzz/fuzz-envelope",
            swiftSettings: swiftSettings),
        // What the store tests share: temporary folders, and temporary stores on SQLite and PostgreSQL.
        .target(
            name: "JobstreamTestSupport",
            dependencies: [
                "JobstreamFiles", "JobstreamMessages", "JobstreamStore", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["JobstreamFuzzTargets"],
            path: "Tests/FuzzRegressionTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobstreamMessagesTests",
            dependencies: ["JobstreamMessages"],
            path: "Tests/JobstreamMessagesTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackfillTests",
            dependencies: [
                "JobstreamBackfill", "JobstreamCSV", "JobstreamFiles", "JobstreamStore", "JobstreamMessages",
                "JobstreamTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                // Writes the zips the reader is tested on: archives made by another implementation.
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/BackfillTests",
            swiftSettings: swiftSettings
        ),
        // The backfill job's state machine with a recording messenger and a fast clock: no broker.
        .testTarget(
            name: "BackfillJobTests",
            dependencies: [
                "JobstreamBackfill", "JobstreamFiles", "JobstreamMessages", "JobstreamStore", "JobstreamTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Tests/BackfillJobTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MigrationTests",
            dependencies: [
                "JobstreamMigration", "JobstreamStore", "JobstreamMessages", "JobstreamTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Tests/MigrationTests",
            swiftSettings: swiftSettings
        ),
        // The migration's state machine with a recording messenger and a fast clock: no broker.
        .testTarget(
            name: "MigrationJobTests",
            dependencies: [
                "JobstreamMigration", "JobstreamMessages", "JobstreamStore", "JobstreamTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Tests/MigrationJobTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "JobstreamSync", "JobstreamStore", "JobstreamMessages", "JobstreamTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Tests/SyncTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "JobstreamBackfill", "JobstreamDashboard", "JobstreamFiles", "JobstreamMessages", "JobstreamStore",
                "JobstreamSync",
                "JobstreamTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/DashboardTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "JobstreamService", "Kafka", "JobstreamMessages",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/OperationsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: [
                "JobstreamObjectStore", "JobstreamFiles", "JobstreamTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/ObjectStoreTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WebhookTests",
            dependencies: [
                "JobstreamWebhooks", "JobstreamBackfill", "JobstreamMessages", "JobstreamStore", "JobstreamTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            path: "Tests/WebhookTests",
            swiftSettings: swiftSettings
        ),
        // The Kafka layer without a broker: offset tracking, and a send honouring cancellation.
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", .product(name: "Logging", package: "swift-log")],
            path: "Tests/KafkaTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaIntegrationTests",
            dependencies: [
                "Kafka",
                "JobstreamMessages",
                "JobstreamService",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/KafkaIntegrationTests",
            swiftSettings: swiftSettings
        ),
    ]
)
