import Foundation
import JobstreamMessages
import Kafka
import Logging

/// Moves a message that cannot be decoded or handled to the dead-letter topic, with headers that say
/// why and where it came from, so nothing is dropped silently and consumption goes on.
public struct DeadLetterPublisher: Sendable {
    let producer: KafkaProducer
    let consumerGroup: String
    let topic: String
    let logger: Logger
    let metrics: ServiceMetrics

    public init(producer: KafkaProducer, consumerGroup: String, topic: String = Topics.deadLetters, logger: Logger,
                metrics: ServiceMetrics = ServiceMetrics()) {
        self.producer = producer
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.logger = logger
        self.metrics = metrics
    }

    /// The dead letter for `message`: its key, value and headers, plus the dead-letter headers.
    public func deadLetter(for message: KafkaConsumerMessage, reason: String, at time: Date = Date()) -> KafkaProducerMessage {
        KafkaProducerMessage(topic: topic, key: message.key, value: message.value, headers: message.headers + [
            KafkaHeader(key: DeadLetterHeaders.error, text: reason),
            KafkaHeader(key: DeadLetterHeaders.originalTopic, text: message.topic),
            KafkaHeader(key: DeadLetterHeaders.originalPartition, text: String(message.partition)),
            KafkaHeader(key: DeadLetterHeaders.originalOffset, text: String(message.offset)),
            KafkaHeader(key: DeadLetterHeaders.consumerGroup, text: consumerGroup),
            KafkaHeader(key: DeadLetterHeaders.failedAt, text: Timestamp.format(time)),
        ])
    }

    /// Publishes the dead letter and returns once the broker acknowledged it, retrying until it does:
    /// the original's offset may be committed only after that. Throws `CancellationError` if cancelled
    /// or once `giveUp` returns true between attempts (a shutting-down service must not wait forever
    /// for a broker that is down; the original is then delivered again later).
    public func publish(_ message: KafkaConsumerMessage, reason: String,
                        giveUp: @Sendable () -> Bool = { false }) async throws {
        let letter = deadLetter(for: message, reason: reason)
        var delay = Duration.milliseconds(100)
        while true {
            if giveUp() { throw CancellationError() }
            do {
                let report = try await producer.send(letter)
                metrics.deadLettered(from: message.topic)
                logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(reason)",
                               metadata: ["dead-letter.offset": "\(report.offset)"])
                return
            } catch {
                logger.error("publishing a dead letter failed, retrying in \(delay): \(error)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }
}
