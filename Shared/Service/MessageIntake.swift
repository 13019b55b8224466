import JobstreamMessages
import JobstreamStore
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// What both message loops do to every message before and after their handler: the size bound and
/// the decode, the type filter and the check, dead letters, log metadata, the retry budget, and
/// consuming until graceful shutdown. ``MessageLoop`` hands messages over one at a time,
/// ``BatchMessageLoop`` in batches; everything else is here, once.
struct MessageIntake: Sendable {
    let consumer: KafkaConsumer
    let deadLetters: DeadLetterPublisher
    /// The message types the stage handles (nil: any); any other is dead-lettered unread by the handler.
    let accepting: Set<MessageType>?
    /// Why a decoded message cannot be handled, or nil.
    let check: MessageCheck
    let logger: Logger
    let metrics: ServiceMetrics
    let triage: FailureTriage
    let maxMessageBytes: Int
    let stopping = StopSignal()

    /// Runs `consume` over the consumer's messages until graceful shutdown (which stops the consumer
    /// and sets ``stopping``), then commits finished work and leaves the group.
    func run(_ consume: (inout KafkaConsumerMessages.Iterator) async -> Void) async {
        await withGracefulShutdownHandler {
            var messages = consumer.messages.makeAsyncIterator()
            await consume(&messages)
        } onGracefulShutdown: { [consumer, stopping] in
            stopping.set()
            consumer.stopConsuming()
        }
        await consumer.close()
    }

    /// Counts, decodes and checks one message; returns its envelope, or nil when it was dead-lettered
    /// (too large, undecodable, of a type the stage does not take, or refused by the check).
    func accept(_ message: KafkaConsumerMessage) async -> AnyEnvelope? {
        metrics.consumed(from: message.topic)
        let envelope: AnyEnvelope
        do {
            envelope = try decode(message, maxBytes: maxMessageBytes)
        } catch {
            await deadLetter(message, reason: error.description)
            return nil
        }
        let problem =
            accepting.map { $0.contains(envelope.type) } == false
            ? "this stage does not handle \(envelope.type.rawValue) messages (found on \(message.topic))"
            : check(envelope)
        if let problem {
            await deadLetter(message, reason: problem)
            return nil
        }
        return envelope
    }

    /// The logger for work on `message`: its topic, partition and offset, and its job when known.
    func logger(for message: KafkaConsumerMessage, jobId: String? = nil) -> Logger {
        var logger = self.logger
        logger[metadataKey: "kafka.topic"] = "\(message.topic)"
        logger[metadataKey: "kafka.partition"] = "\(message.partition)"
        logger[metadataKey: "kafka.offset"] = "\(message.offset)"
        if let jobId { logger[metadataKey: "job.id"] = "\(jobId)" }
        return logger
    }

    /// Runs `body` within the retry budget (``retryingOutages(what:triage:logger:stopping:_:)``).
    func retrying(_ what: String, logger: Logger, _ body: () async throws -> Void) async -> RetryOutcome {
        await retryingOutages(what: what, triage: triage, logger: logger, stopping: stopping, body)
    }

    /// Dead-letters `message`, then marks it processed (unless the service stopped first).
    func deadLetter(_ message: KafkaConsumerMessage, reason: String) async {
        await deadLetters.deadLetter(message, reason: reason, consumer: consumer, stopping: stopping)
    }

    /// Dead-letters a message whose handling kept failing, saying how often and why.
    func deadLetter(_ message: KafkaConsumerMessage, failedWith error: any Error, attempts: Int) async {
        await deadLetter(message, reason: "handling failed \(attempts) times: \(StoreFailure.describe(error))")
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
    func deadLetter(
        _ message: KafkaConsumerMessage, reason: String, consumer: KafkaConsumer,
        stopping: StopSignal
    ) async {
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
