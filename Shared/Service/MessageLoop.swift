import Foundation
import JobstreamMessages
import JobstreamStore
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Handles one decoded message; `logger` carries the topic, partition, offset and job id. Return to
/// mark it processed; throw ``UnprocessableMessage`` to dead-letter it; throw anything else to have it retried.
public typealias MessageHandler = @Sendable (_ envelope: AnyEnvelope, _ message: KafkaConsumerMessage,
                                             _ logger: Logger) async throws -> Void

/// Consumes messages, decodes their envelopes and hands them to a handler, one at a time.
///
/// Each message is marked processed — and so becomes committable — only after the handler returned
/// or the message was dead-lettered. A message larger than `maxMessageBytes` or that cannot be
/// decoded is dead-lettered. A handler failure is retried with backoff: without limit while it is an
/// outage of the store or the broker (so a transient outage loses nothing), and up to
/// ``FailureTriage/attempts`` times when it is the message's own; then the message is dead-lettered
/// with the error and the loop moves on. ``UnprocessableMessage`` is dead-lettered at once.
public final class MessageLoop: Service, Sendable {
    private let consumer: KafkaConsumer
    private let deadLetters: DeadLetterPublisher
    private let handler: MessageHandler
    private let logger: Logger
    private let metrics: ServiceMetrics
    private let triage: FailureTriage
    private let maxMessageBytes: Int
    private let stopping = StopSignal()

    public init(consumer: KafkaConsumer, deadLetters: DeadLetterPublisher, logger: Logger,
                metrics: ServiceMetrics = ServiceMetrics(), triage: FailureTriage = FailureTriage(store: nil),
                maxMessageBytes: Int = InputLimits.defaultMessageBytes, handler: @escaping MessageHandler) {
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.handler = handler
        self.logger = logger
        self.metrics = metrics
        self.triage = triage
        self.maxMessageBytes = maxMessageBytes
    }

    /// Consumes until graceful shutdown, then commits finished work and leaves the group.
    public func run() async throws {
        await withGracefulShutdownHandler {
            for await message in consumer.messages {
                await process(message)
                if stopping.isSet { break }
            }
        } onGracefulShutdown: { [self] in
            stopping.set()
            consumer.stopConsuming()
        }
        await consumer.close()
    }

    /// Decodes and handles one message, marking it processed when done.
    func process(_ message: KafkaConsumerMessage) async {
        let started = ContinuousClock.now
        metrics.consumed(from: message.topic)
        defer { metrics.processed(messageFrom: message.topic, in: ContinuousClock.now - started) }
        var logger = self.logger
        logger[metadataKey: "kafka.topic"] = "\(message.topic)"
        logger[metadataKey: "kafka.partition"] = "\(message.partition)"
        logger[metadataKey: "kafka.offset"] = "\(message.offset)"
        let envelope: AnyEnvelope
        do {
            envelope = try decode(message, maxBytes: maxMessageBytes)
        } catch {
            await deadLetter(message, reason: error.description)
            return
        }
        logger[metadataKey: "job.id"] = "\(envelope.jobId)"
        let outcome = await retryingOutages(what: "handling \(envelope.type.rawValue)", triage: triage, logger: logger,
                                            stopping: stopping) {
            do {
                try await handler(envelope, message, logger)
                consumer.markProcessed(message)
            } catch let error as UnprocessableMessage {
                await deadLetter(message, reason: error.reason)
            }
        }
        // Stopping first: not marked processed, so the message is delivered again.
        if case .failed(let error, let attempts) = outcome {
            await deadLetter(message, reason: "handling failed \(attempts) times: \(StoreFailure.describe(error))")
        }
    }

    private func deadLetter(_ message: KafkaConsumerMessage, reason: String) async {
        await deadLetters.deadLetter(message, reason: reason, consumer: consumer, stopping: stopping)
    }
}

/// Decodes a consumed message, refusing one larger than `maxBytes` before reading it.
func decode(_ message: KafkaConsumerMessage, maxBytes: Int) throws(MessageDecodingError) -> AnyEnvelope {
    guard message.value.count <= maxBytes else {
        throw .tooLarge(bytes: message.value.count, limit: maxBytes)
    }
    return try MessageCodec.decode(message.value)
}

extension DeadLetterPublisher {
    /// Dead-letters `message` and then marks it processed; if the service stops before the dead letter
    /// is written, the message stays unmarked and is delivered again.
    func deadLetter(_ message: KafkaConsumerMessage, reason: String, consumer: KafkaConsumer,
                    stopping: StopSignal) async {
        do {
            try await publish(message, reason: reason) { stopping.isSet }
            consumer.markProcessed(message)
        } catch {
            logger.error("stopped before the dead letter was written; the message will be delivered again")
        }
    }
}

/// Set once when a service begins to stop; loops check it between messages and retries.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func set() {
        flag.store(true, ordering: .relaxed)
    }
}
