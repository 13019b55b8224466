import JobstreamMessages
import Kafka
import Logging
import ServiceLifecycle

/// What a service's handler may use: the producer, the Kafka settings and a logger.
public struct ServiceContext: Sendable {
    public let name: String
    public let kafka: KafkaConfiguration
    public let producer: KafkaProducer
    public let logger: Logger
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
    public init(services: [any Service] = [], maxBatchSize: Int, check: @escaping MessageCheck,
                batchHandler: @escaping BatchHandler) {
        self.consumption = .batches(maxSize: maxBatchSize, check: check, handler: batchHandler)
        self.services = services
    }
}

/// Runs one jobstream service: checks librdkafka, joins the consumer group on `topics`, hands every
/// decoded message to the handler, and shuts down cleanly on SIGTERM or SIGINT (the consumer
/// commits finished work and leaves the group, then the producer flushes).
public enum ServiceRunner {
    /// - Parameters:
    ///   - accepting: the message types this service handles; any other type is dead-lettered.
    ///   - makeHandler: builds the handler once the producer exists.
    public static func run(name: String, topics: [String], accepting: Set<MessageType>, options: ServiceOptions,
                           makeHandler: (ServiceContext) throws -> MessageHandler) async throws {
        try await run(name: name, topics: topics, accepting: accepting, options: options) { context in
            ServiceStage(handler: try makeHandler(context))
        }
    }

    /// Runs a service whose stage has companion services; `makeStage` may open the store.
    public static func run(name: String, topics: [String], accepting: Set<MessageType>, options: ServiceOptions,
                           makeStage: (ServiceContext) async throws -> ServiceStage) async throws {
        let logger = LoggingSetup.bootstrap(label: "jobstream.\(name)", level: options.logLevel)
        let kafka = try options.kafkaConfiguration(defaultClientID: name)
        let group = options.group ?? "jobstream.\(name)"
        let producer = try KafkaProducer(configuration: ProducerConfiguration(kafka: kafka), logger: logger)
        let context = ServiceContext(name: name, kafka: kafka, producer: producer, logger: logger)
        let stage = try await makeStage(context)
        var consumerConfiguration = ConsumerConfiguration(kafka: kafka, groupID: group, topics: topics)
        let deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: group, logger: logger)
        let loop: any Service
        switch stage.consumption {
        case .oneByOne(let handler):
            let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
            loop = MessageLoop(consumer: consumer, deadLetters: deadLetters, logger: logger,
                               handler: acceptingOnly(accepting, name: name, handler))
        case .batches(let maxSize, let check, let handler):
            consumerConfiguration.pollBatchSize = maxSize
            let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
            loop = BatchMessageLoop(consumer: consumer, deadLetters: deadLetters, accepting: accepting, maxBatchSize: maxSize,
                                    logger: logger, check: check, handler: handler)
        }
        logger.info("\(name) starting", metadata: [
            "librdkafka": "\(LibrdkafkaVersion.linkedText)", "brokers": "\(kafka.brokers)",
            "group": "\(group)", "topics": "\(topics.joined(separator: ","))",
        ])
        // Services stop in reverse order: the loop first (commit, leave), then the companions, then
        // the producer (flush).
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: producer)] + stage.services.map { .init(service: $0) } + [.init(service: loop)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await serviceGroup.run()
        logger.info("\(name) stopped")
    }
}

extension ServiceRunner {
    /// A handler that logs each message and marks it processed: the stage of a service whose work is
    /// not built yet still joins its group, decodes and acknowledges its input.
    public static func logReceipt(_ context: ServiceContext) -> MessageHandler {
        { envelope, _, logger in
            logger.info("received \(envelope.type.rawValue)")
        }
    }
}

/// Dead-letters message types the service does not handle before they reach its handler.
func acceptingOnly(_ types: Set<MessageType>, name: String, _ handler: @escaping MessageHandler) -> MessageHandler {
    { envelope, message, logger in
        guard types.contains(envelope.type) else {
            throw UnprocessableMessage("\(name) does not handle \(envelope.type.rawValue) messages (found on \(message.topic))")
        }
        try await handler(envelope, message, logger)
    }
}
