// swift-tools-version:6.0
import PackageDescription

/// Every target is built in Swift 6 language mode with the same upcoming features.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// A service executable under `Services/<name>`, built on the shared service runtime.
func service(_ name: String, extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "JobstreamService",
            "JobstreamMessages",
            "Kafka",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
        .executable(name: "kafka-bench", targets: ["kafka-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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
        // What every service shares: command-line options, the consume loop, dead letters.
        .target(
            name: "JobstreamService",
            dependencies: [
                "Kafka",
                "JobstreamMessages",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Service",
            swiftSettings: swiftSettings
        ),
        service("backfill-validator"),
        service("backfill-processor"),
        service("migration-runner"),
        service("sync-history-recorder"),
        service("jobstream"),
        service("kafka-bench"),
        .testTarget(
            name: "JobstreamMessagesTests",
            dependencies: ["JobstreamMessages"],
            path: "Tests/JobstreamMessagesTests",
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
