import Kafka
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// What a service is operated through: its metrics, its readiness checks and its operations port.
/// Makes the service's Kafka clients so that their statistics reach the metrics and the consumer's
/// group membership reaches `/ready`.
public struct ServiceOperations: Sendable {
    public let metrics: ServiceMetrics
    public let readiness = Readiness()
    private let options: OperationsOptions

    public init(service: String, options: OperationsOptions) {
        self.metrics = ServiceMetrics(service: service)
        self.options = options
    }

    /// librdkafka's statistics interval: on when there is an operations port to show them.
    private var statisticsInterval: Duration? {
        options.metricsPort == nil ? nil : .seconds(options.statisticsInterval)
    }

    /// The service's producer, its queue and deliveries counted in the metrics.
    public func makeProducer(kafka: KafkaConfiguration, logger: Logger) throws -> KafkaProducer {
        let metrics = self.metrics
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(kafka: kafka, statisticsInterval: statisticsInterval), logger: logger,
            statistics: { metrics.record(producerStatistics: $0) })
        metrics.beforeRendering { metrics.record(producer: producer) }
        return producer
    }

    /// The service's consumer: its lag in the metrics, its group membership checked by `/ready`.
    public func makeConsumer(configuration: ConsumerConfiguration, logger: Logger) throws -> KafkaConsumer {
        var configuration = configuration
        configuration.statisticsInterval = statisticsInterval
        let metrics = self.metrics
        let consumer = try KafkaConsumer(
            configuration: configuration, logger: logger,
            statistics: { metrics.record(consumerStatistics: $0) })
        readiness.add(
            ConsumerGroupReadiness(
                consumer: consumer, group: configuration.partitions == .shared ? configuration.groupID : nil))
        return consumer
    }

    /// Fails with a sentence naming the port when the operations port cannot be opened (another
    /// process holds it), before the service opens anything else.
    public func checkPortIsFree() async throws {
        guard let port = options.metricsPort, port != 0 else { return }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: options.metricsHost, port: port).get()
            try await channel.close()
        } catch {
            throw StartupError(
                "the operations port \(options.metricsHost):\(port) (--metrics-port) cannot be opened: \(error); is another service using it?"
            )
        }
    }

    /// The operations port as a service to run first (so it stops last), or nothing without `--metrics-port`.
    public func server(logger: Logger) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let port = options.metricsPort else { return [] }
        return [
            .init(
                service: OperationsServer.application(
                    host: options.metricsHost, port: port, metrics: metrics,
                    readiness: readiness, logger: logger))
        ]
    }
}

/// A service that cannot start, in a sentence for its operator.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
