// swift-tools-version:6.2
import PackageDescription

/// jobstream's benchmark tools, in a package of their own so that building the product (`swift build`
/// at the root) builds the services and the CLI only. `make bench-*` builds these in release.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

func bench(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name,
        dependencies: dependencies + [
            "BenchSupport",
            .product(name: "JobstreamService", package: "jobstream"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "jobstream-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "jobstream", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
    ],
    targets: [
        // What the tools share: seconds of a duration, for rates.
        .target(name: "BenchSupport", swiftSettings: swiftSettings),
        // The Swift Kafka layer against raw librdkafka: produce, consume and round-trip latency.
        bench("kafka-bench", [.product(name: "Kafka", package: "jobstream")]),
        // Backfill files generated, and the record store's ceiling for applying them.
        bench(
            "backfill-bench",
            [
                .product(name: "JobstreamBackfill", package: "jobstream"),
                .product(name: "JobstreamMessages", package: "jobstream"),
                .product(name: "JobstreamStore", package: "jobstream"),
            ]),
        // Charges seeded, and the store's ceiling for generating revenue schedules.
        bench(
            "migration-bench",
            [
                .product(name: "JobstreamMigration", package: "jobstream"),
                .product(name: "JobstreamMessages", package: "jobstream"),
                .product(name: "JobstreamStore", package: "jobstream"),
            ]),
        // Recording outcomes per second, and the filtered history query.
        bench(
            "sync-bench",
            [
                .product(name: "JobstreamSync", package: "jobstream"),
                .product(name: "JobstreamMessages", package: "jobstream"),
                .product(name: "JobstreamStore", package: "jobstream"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]),
    ]
)
