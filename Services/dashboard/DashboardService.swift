import ArgumentParser
import Foundation
import Hummingbird
import JobstreamDashboard
import JobstreamFiles
import JobstreamMessages
import JobstreamService
import Kafka
import Logging
import ServiceLifecycle

@main
struct DashboardService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serves the Backfill Logs, Migration Logs and Sync History as live web pages and a JSON API.",
        discussion: """
            Reads \(Topics.backfillStatus), \(Topics.migrationStatus) and \(Topics.syncHistory) from their start \
            into memory, each instance every partition and outside any consumer group (so several dashboards \
            can run side by side, and one starts without waiting for a group to form) \
            and pushes every change to open pages. Details (migration warnings, failed sync records) come from \
            the store, result files from the file store. Cancel needs the operator token; viewing needs the \
            viewer token when one is set. Give tokens through the environment \
            ($JOBSTREAM_DASHBOARD_OPERATOR_TOKEN, $JOBSTREAM_DASHBOARD_VIEWER_TOKEN) rather than the command \
            line, which other users of the machine can read. Serve it behind TLS outside a trusted network.
            """)

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var operations: OperationsOptions

    @Option(help: "The address to listen on.") var host: String = Settings.value("host", default: "127.0.0.1")
    @Option(help: "The port to listen on (0 picks a free one).") var port: Int = Settings.value("port", default: 8080)

    @Option(
        name: .customLong("operator-token"),
        help: ArgumentHelp(
            "The token that allows Cancel (default: $JOBSTREAM_DASHBOARD_OPERATOR_TOKEN; none: actions are off).",
            valueName: "token"))
    var operatorToken: String?

    @Option(
        name: .customLong("viewer-token"),
        help: ArgumentHelp(
            "A token needed to view anything (default: $JOBSTREAM_DASHBOARD_VIEWER_TOKEN; none: viewing is open).",
            valueName: "token"))
    var viewerToken: String?

    @Option(
        name: .customLong("tokens-file"),
        help: ArgumentHelp(
            "A file of named tokens, one `NAME ROLE sha256:HEX` a line (roles: viewer, operator, approver); `jobstream token new` makes one (default: $JOBSTREAM_DASHBOARD_TOKENS_FILE).",
            valueName: "path"))
    var tokensFile: String?

    @Option(
        name: .customLong("max-upload-bytes"),
        help: "The most bytes of a file submitted over the API (as the validators' --max-file-bytes).")
    var maxUploadBytes: Int64 = Settings.value("max-upload-bytes", default: FileLimits.standard.fileBytes)

    @Option(name: .customLong("chunk-size"), help: "Rows per chunk of the backfills submitted over the API.")
    var chunkSize: Int = Settings.value("chunk-size", default: 1000)

    func validate() throws {
        guard maxUploadBytes >= 1 else { throw ValidationError("--max-upload-bytes must be at least 1") }
        guard (1...100_000).contains(chunkSize) else { throw ValidationError("--chunk-size must be between 1 and 100000") }
        if operations.metricsPort == port, port != 0 {
            throw ValidationError("--metrics-port \(port) is the dashboard's own --port; give the operations port another")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port \(port) is not a port number (0 to 65535)") }
        guard !host.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--host is empty") }
        do { _ = try access() } catch { throw ValidationError(error.description) }
    }

    private func access() throws(AccessConfigurationError) -> DashboardAccess {
        // Read here rather than as the options' defaults, so that `--help` never prints a token. An
        // empty token is no token: the feature it guards is off (actions) or open (viewing).
        let environment = ProcessInfo.processInfo.environment
        let operatorToken = operatorToken ?? environment["JOBSTREAM_DASHBOARD_OPERATOR_TOKEN"] ?? ""
        let viewerToken = viewerToken ?? environment["JOBSTREAM_DASHBOARD_VIEWER_TOKEN"] ?? ""
        let tokensFile = tokensFile ?? environment["JOBSTREAM_DASHBOARD_TOKENS_FILE"] ?? ""
        return try DashboardAccess(
            operatorToken: operatorToken.isEmpty ? nil : operatorToken,
            viewerToken: viewerToken.isEmpty ? nil : viewerToken,
            named: tokensFile.isEmpty ? .none : try NamedTokens.read(file: tokensFile))
    }

    func run() async throws {
        let logger = LoggingSetup.bootstrap(label: "jobstream.dashboard", level: options.logLevel, format: operations.logFormat)
        let kafka = try options.kafkaConfiguration(defaultClientID: "dashboard")
        // Never joined and never committed to: librdkafka needs a group id to assign partitions at all.
        let group = options.group ?? "jobstream.dashboard.\(UUID().uuidString.prefix(8).lowercased())"
        let operating = ServiceOperations(service: "dashboard", options: operations)
        let consumer = try operating.makeConsumer(
            configuration: ConsumerConfiguration(
                kafka: kafka, groupID: group,
                topics: [Topics.backfillStatus, Topics.migrationStatus, Topics.syncHistory],
                startOffset: .earliest, partitions: .every),
            logger: logger)
        let files = try storeOptions.files()
        let store = try await storeOptions.openStore(logger: logger)
        let storeLifetime = StoreLifetime(store: store)
        operating.readiness.add(storeLifetime)
        operating.readiness.add(FileStoreReadiness(files: files))
        let board = StatusBoard()
        operating.metrics.beforeRendering { [metrics = operating.metrics] in
            let counts = await board.statusCounts()
            metrics.setJobs(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.jobKind, $0.value) }))
        }
        let access = try access()
        var dashboard = Dashboard(
            board: board, access: access, store: store, files: files,
            actions: JobLogOperatorActions(store: store, chunkSize: chunkSize))
        dashboard.maximumUploadBytes = maxUploadBytes
        let host = host, port = port
        let app = Application(
            router: dashboard.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "jobstream-dashboard"),
            onServerRunning: { channel in
                // The address line is what scripts wait for (and where --port 0 tells the port chosen).
                let address = channel.localAddress?.port.map { "http://\(host):\($0)" } ?? "http://\(host):\(port)"
                logger.notice("dashboard listening on \(address)", metadata: ["url": "\(address)"])
            },
            logger: logger)
        logger.info(
            "dashboard starting",
            metadata: [
                "brokers": "\(kafka.brokers)", "store": "\(store.location)", "files": "\(files.location)",
                "operator-actions": "\(access.actionsEnabled ? "on" : "off")",
                "viewing": "\(access.viewingNeedsToken ? "token" : "open")",
                "named-tokens": "\(access.namedTokenCount)",
            ])
        // Stopped in reverse order: the follower first (it closes the board, ending live streams),
        // then the web server and the store. The dashboard writes nothing to Kafka: a cancel, and a job
        // submitted over the API, go into the job log.
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: operating.server(logger: logger)
                    + [
                        .init(service: storeLifetime), .init(service: app),
                        .init(
                            service: StatusFollower(consumer: consumer, board: board, metrics: operating.metrics, logger: logger)),
                    ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await serviceGroup.run()
        logger.info("dashboard stopped")
    }
}

extension StatusBoard.Log {
    /// The `kind` label of the jobs-by-status metric, as the services name their kinds of job.
    var jobKind: String {
        switch self {
        case .backfills: "backfill"
        case .migrations: "migration"
        case .sync: "sync"
        }
    }
}
