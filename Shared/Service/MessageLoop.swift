import JobstreamMessages
import Kafka
import Logging
import ServiceLifecycle

/// Handles one decoded message; `logger` carries the topic, partition, offset and job id. Return to
/// mark it processed; throw ``UnprocessableMessage`` to dead-letter it; throw anything else to have it retried.
public typealias MessageHandler =
    @Sendable (
        _ envelope: AnyEnvelope, _ message: KafkaConsumerMessage,
        _ logger: Logger
    ) async throws -> Void

/// Why a message cannot be handled, or nil if it can; checked before it reaches the handler.
public typealias MessageCheck = @Sendable (_ envelope: AnyEnvelope) -> String?

/// Consumes messages, decodes their envelopes and hands them to a handler, one at a time.
///
/// Each message is marked processed — and so becomes committable — only after the handler returned
/// or the message was dead-lettered. A message larger than `maxMessageBytes`, that cannot be decoded,
/// or of a type the stage does not take is dead-lettered (``MessageIntake``). A handler failure is
/// retried with backoff: without limit while it is an outage of the store or the broker (so a
/// transient outage loses nothing), and up to ``FailureTriage/attempts`` times when it is the
/// message's own; then the message is dead-lettered with the error and the loop moves on.
/// ``UnprocessableMessage`` is dead-lettered at once.
public final class MessageLoop: Service, Sendable {
    private let intake: MessageIntake
    private let handler: MessageHandler

    /// - Parameter accepting: the message types the stage handles (nil: any).
    public init(
        consumer: KafkaConsumer, deadLetters: DeadLetterPublisher, accepting: Set<MessageType>? = nil, logger: Logger,
        metrics: ServiceMetrics = ServiceMetrics(), triage: FailureTriage = FailureTriage(store: nil),
        maxMessageBytes: Int = InputLimits.defaultMessageBytes, handler: @escaping MessageHandler
    ) {
        intake = MessageIntake(
            consumer: consumer, deadLetters: deadLetters, accepting: accepting, check: { _ in nil },
            logger: logger, metrics: metrics, triage: triage, maxMessageBytes: maxMessageBytes)
        self.handler = handler
    }

    /// Consumes until graceful shutdown, then commits finished work and leaves the group.
    public func run() async throws {
        await intake.run { messages in
            while let message = await messages.next() {
                await process(message)
                if intake.stopping.isSet { break }
            }
        }
    }

    /// Decodes and handles one message, marking it processed when done.
    func process(_ message: KafkaConsumerMessage) async {
        let started = ContinuousClock.now
        defer { intake.metrics.processed(messageFrom: message.topic, in: ContinuousClock.now - started) }
        guard let envelope = await intake.accept(message) else { return }
        let logger = intake.logger(for: message, jobId: envelope.jobId)
        let outcome = await intake.retrying("handling \(envelope.type.rawValue)", logger: logger) {
            do {
                try await handler(envelope, message, logger)
                intake.consumer.markProcessed(message)
            } catch let error as UnprocessableMessage {
                await intake.deadLetter(message, reason: error.reason)
            }
        }
        // Stopping first: not marked processed, so the message is delivered again.
        if case .failed(let error, let attempts) = outcome {
            await intake.deadLetter(message, failedWith: error, attempts: attempts)
        }
    }
}
