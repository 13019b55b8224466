import JobstreamMessages
import Kafka
import Logging
import ServiceLifecycle

/// What a service's handler may use: the producer, the Kafka settings, a logger and the metrics.
public struct ServiceContext: Sendable {
    public let name: String
    public let kafka: KafkaConfiguration
    public let producer: KafkaProducer
    public let logger: Logger
    public let metrics: ServiceMetrics
}

/// What a service runs: the handler of its consumed messages, and services that run beside the
/// consume loop (e.g. a job supervisor). Those stop after the loop and before the producer.
public struct ServiceStage: Sendable {
    /// How consumed messages reach the stage.
    enum Consumption: Sendable {
        case oneByOne(MessageHandler)
        case batches(maxSize: Int, check: MessageCheck, handler: BatchHandler)
    }

    var consumption: Consumption
    public var services: [any Service]

    /// A stage that handles one message at a time (``MessageLoop``).
    public init(services: [any Service] = [], handler: @escaping MessageHandler) {
        self.consumption = .oneByOne(handler)
        self.services = services
    }

    /// A stage that handles what has arrived in batches of up to `maxBatchSize` (``BatchMessageLoop``).
    public init(
        services: [any Service] = [], maxBatchSize: Int, check: @escaping MessageCheck,
        batchHandler: @escaping BatchHandler
    ) {
        self.consumption = .batches(maxSize: maxBatchSize, check: check, handler: batchHandler)
        self.services = services
    }
}

/// Runs one jobstream service: checks librdkafka, joins the consumer group on `topics`, hands every
/// decoded message to the handler, serves its operations port (metrics, health, readiness) when
/// asked to, and shuts down cleanly on SIGTERM or SIGINT (the consumer commits finished work and
/// leaves the group, then the producer flushes).
public enum ServiceRunner {
    /// The service handles the message types ``Topics`` says its topics carry; any other type found
    /// on them is dead-lettered.
    /// - Parameter makeHandler: builds the handler once the producer exists.
    public static func run(
        name: String, topics: [String], options: ServiceOptions, operations: OperationsOptions,
        makeHandler: (ServiceContext) throws -> MessageHandler
    ) async throws {
        try await run(name: name, topics: topics, options: options, operations: operations) { context in
            ServiceStage(handler: try makeHandler(context))
        }
    }

    /// Runs a service whose stage has companion services; `makeStage` may open the store. A
    /// companion that is a ``ReadinessCheck`` (such as ``StoreLifetime``) is checked by `/ready`.
    public static func run(
        name: String, topics: [String], options: ServiceOptions, operations: OperationsOptions,
        makeStage: (ServiceContext) async throws -> ServiceStage
    ) async throws {
        let accepting = Set(topics.flatMap { Topics.definition(named: $0)?.messageTypes ?? [] })
        let logger = LoggingSetup.bootstrap(label: "jobstream.\(name)", level: options.logLevel, format: operations.logFormat)
        let kafka = try options.kafkaConfiguration(defaultClientID: name)
        let group = options.group ?? "jobstream.\(name)"
        let operating = ServiceOperations(service: name, options: operations)
        try await operating.checkPortIsFree()
        let metrics = operating.metrics
        let producer = try operating.makeProducer(kafka: kafka, logger: logger)
        let context = ServiceContext(name: name, kafka: kafka, producer: producer, logger: logger, metrics: metrics)
        let stage = try await makeStage(context)
        var consumerConfiguration = ConsumerConfiguration(kafka: kafka, groupID: group, topics: topics)
        if case .batches(let maxSize, _, _) = stage.consumption {
            consumerConfiguration.pollBatchSize = maxSize
        }
        let consumer = try operating.makeConsumer(configuration: consumerConfiguration, logger: logger)
        for case let check as any ReadinessCheck in stage.services {
            operating.readiness.add(check)
        }
        // A dead letter fits where its original did: within --max-message-bytes, less room for framing.
        let deadLetters = DeadLetterPublisher(
            producer: producer, consumerGroup: group, logger: logger, metrics: metrics,
            maxBytes: min(options.maxMessageBytes - 1024, DeadLetterPublisher.defaultMaxBytes))
        // Failures are told apart by asking the stage's store (see FailureTriage).
        let store = stage.services.lazy.compactMap { ($0 as? StoreLifetime)?.store }.first
        let triage = FailureTriage(store: store)
        let loop: any Service =
            switch stage.consumption {
            case .oneByOne(let handler):
                MessageLoop(
                    consumer: consumer, deadLetters: deadLetters, accepting: accepting, logger: logger, metrics: metrics,
                    triage: triage, maxMessageBytes: options.maxMessageBytes, handler: handler)
            case .batches(let maxSize, let check, let handler):
                BatchMessageLoop(
                    consumer: consumer, deadLetters: deadLetters, accepting: accepting, maxBatchSize: maxSize,
                    logger: logger, metrics: metrics, triage: triage, maxMessageBytes: options.maxMessageBytes,
                    check: check, handler: handler)
            }
        logger.info(
            "\(name) starting",
            metadata: [
                "librdkafka": "\(LibrdkafkaVersion.linkedText)", "brokers": "\(kafka.brokers)",
                "group": "\(group)", "topics": "\(topics.joined(separator: ","))",
            ])
        // Services stop in reverse order: the loop first (commit, leave), then the companions, then
        // the producer (flush), and the operations port last, so probes see the whole shutdown.
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: operating.server(logger: logger) + [.init(service: producer)]
                    + stage.services.map { .init(service: $0) }
                    + [.init(service: loop)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            // A service that failed to start leaves the others unstarted: the store is closed here.
            for case let lifetime as StoreLifetime in stage.services { await lifetime.store.close() }
            throw error
        }
        logger.info("\(name) stopped")
    }
}
