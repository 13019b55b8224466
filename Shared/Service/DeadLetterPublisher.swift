import Crypto
import Foundation
import JobstreamMessages
import Kafka
import Logging

/// Moves a message that cannot be decoded or handled to the dead-letter topic, with headers that say
/// why and where it came from, so nothing is dropped silently and consumption goes on.
///
/// A dead letter always fits: the reason is cut to ``InputLimits/reasonBytes``, and when the original
/// key, value and headers would make it larger than `maxBytes`, the value is cut (then the original
/// headers dropped, then the key cut), with the original value's size and SHA-256 in headers.
public struct DeadLetterPublisher: Sendable {
    let producer: KafkaProducer
    let consumerGroup: String
    let topic: String
    let logger: Logger
    let metrics: ServiceMetrics
    /// The largest dead letter sent (key, value and headers).
    let maxBytes: Int

    /// The most bytes of a dead letter by default: under librdkafka's `message.max.bytes` (1,000,000),
    /// with room for the record's own framing.
    public static let defaultMaxBytes = 1_000_000 - 4096

    public init(
        producer: KafkaProducer, consumerGroup: String, topic: String = Topics.deadLetters, logger: Logger,
        metrics: ServiceMetrics = ServiceMetrics(), maxBytes: Int = defaultMaxBytes
    ) {
        self.producer = producer
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.logger = logger
        self.metrics = metrics
        self.maxBytes = maxBytes
    }

    /// The dead letter for `message`: its key, value and headers (cut to fit `maxBytes`), plus the
    /// dead-letter headers.
    public func deadLetter(for message: KafkaConsumerMessage, reason: String, at time: Date = Date()) -> KafkaProducerMessage {
        deadLetter(for: message, reason: reason, at: time, maxBytes: maxBytes)
    }

    func deadLetter(for message: KafkaConsumerMessage, reason: String, at time: Date, maxBytes: Int) -> KafkaProducerMessage {
        var ours = [
            KafkaHeader(key: DeadLetterHeaders.error, text: TextRule.cut(reason, toBytes: InputLimits.reasonBytes)),
            KafkaHeader(key: DeadLetterHeaders.originalTopic, text: message.topic),
            KafkaHeader(key: DeadLetterHeaders.originalPartition, text: String(message.partition)),
            KafkaHeader(key: DeadLetterHeaders.originalOffset, text: String(message.offset)),
            KafkaHeader(key: DeadLetterHeaders.consumerGroup, text: consumerGroup),
            KafkaHeader(key: DeadLetterHeaders.failedAt, text: Timestamp.format(time)),
        ]
        var key = message.key
        var value = message.value
        var headers = message.headers
        func size() -> Int {
            (key?.count ?? 0) + value.count + (headers + ours).reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
        }
        if size() > maxBytes {
            let digest = SHA256.hash(data: message.value).map { String(format: "%02x", $0) }.joined()
            ours += [
                KafkaHeader(key: DeadLetterHeaders.originalValueBytes, text: String(message.value.count)),
                KafkaHeader(key: DeadLetterHeaders.originalValueSHA256, text: digest),
            ]
            value = []
            if size() > maxBytes {
                ours.append(KafkaHeader(key: DeadLetterHeaders.originalHeadersDropped, text: String(headers.count)))
                headers = []
            }
            if size() > maxBytes, let original = key {
                key = Array(original.prefix(max(0, original.count - (size() - maxBytes))))
            }
            value = message.value.prefix(max(0, maxBytes - size()))
        }
        return KafkaProducerMessage(topic: topic, key: key, value: Array(value), headers: headers + ours)
    }

    /// Publishes the dead letter and returns once the broker acknowledged it (or refused even a
    /// letter without the original value: then the original's place is logged, and it stays on its
    /// topic until retention). A broker that cannot be reached is retried until it can, or until
    /// `giveUp` returns true between attempts (a shutting-down service: the original is then delivered
    /// again later), or the task is cancelled; then `CancellationError` is thrown. Only afterwards may
    /// the original's offset be committed.
    public func publish(
        _ message: KafkaConsumerMessage, reason: String,
        giveUp: @Sendable () -> Bool = { false }
    ) async throws {
        var letter = deadLetter(for: message, reason: reason)
        var delay = Duration.milliseconds(100)
        var valueDropped = false
        while true {
            if giveUp() || Task.isCancelled { throw CancellationError() }
            do {
                let report = try await producer.send(letter)
                metrics.deadLettered(from: message.topic)
                logger.warning(
                    "dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(TextRule.cut(reason, toBytes: InputLimits.reasonBytes))",
                    metadata: ["dead-letter.offset": "\(report.offset)"])
                return
            } catch let error as KafkaError where error.refusesMessage {
                guard !valueDropped else {
                    logger.error(
                        """
                        the dead-letter topic refused even a letter without the original value (\(error)); \
                        \(message.topic)[\(message.partition)]@\(message.offset) (\(message.value.count) bytes) is left \
                        on its topic: \(TextRule.cut(reason, toBytes: InputLimits.reasonBytes))
                        """)
                    return
                }
                logger.warning("the dead-letter topic refused the letter (\(error)); sending it without the original value")
                valueDropped = true
                letter = deadLetter(for: message, reason: reason, at: Date(), maxBytes: 0)
            } catch {
                logger.error("publishing a dead letter failed, retrying in \(delay): \(error)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }
}
