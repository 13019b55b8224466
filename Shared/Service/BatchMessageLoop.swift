import JobstreamMessages
import JobstreamStore
import Kafka
import Logging
import ServiceLifecycle

/// A decoded message and the Kafka message it came in.
public struct ReceivedMessage: Sendable {
    public let envelope: AnyEnvelope
    public let message: KafkaConsumerMessage
}

/// Handles a batch of decoded, checked messages at once (say, in one database transaction). Return to
/// mark them all processed; throw to have the whole batch retried, so its effects must be idempotent.
public typealias BatchHandler = @Sendable (_ batch: [ReceivedMessage], _ logger: Logger) async throws -> Void

/// Why a message cannot be handled, or nil if it can; checked before its batch reaches the handler.
public typealias MessageCheck = @Sendable (_ envelope: AnyEnvelope) -> String?

/// Consumes messages in batches: whatever has arrived, up to `maxBatchSize`, goes to the handler in
/// one call. For stages whose cost is per batch rather than per message, such as a database commit.
///
/// A message that is too large, cannot be decoded, is of a type the stage does not accept, or fails
/// the check is dead-lettered with the reason, and the rest of its batch is handled. The batch is
/// marked processed only after the handler returned, so nothing is committed before its effect is
/// durable. A failure is retried with backoff: without limit while it is an outage of the store or
/// the broker; when it is a fault of the batch (``FailureTriage``), each of its messages is then
/// handled alone, so only the message at fault is dead-lettered and the rest are recorded.
public final class BatchMessageLoop: Service, Sendable {
    private let consumer: KafkaConsumer
    private let deadLetters: DeadLetterPublisher
    private let accepting: Set<MessageType>
    private let maxBatchSize: Int
    private let check: MessageCheck
    private let handler: BatchHandler
    private let logger: Logger
    private let metrics: ServiceMetrics
    private let triage: FailureTriage
    private let maxMessageBytes: Int
    private let stopping = StopSignal()

    public init(consumer: KafkaConsumer, deadLetters: DeadLetterPublisher, accepting: Set<MessageType>, maxBatchSize: Int,
                logger: Logger, metrics: ServiceMetrics = ServiceMetrics(), triage: FailureTriage = FailureTriage(store: nil),
                maxMessageBytes: Int = InputLimits.defaultMessageBytes, check: @escaping MessageCheck,
                handler: @escaping BatchHandler) {
        self.triage = triage
        self.maxMessageBytes = maxMessageBytes
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.accepting = accepting
        self.maxBatchSize = max(1, maxBatchSize)
        self.check = check
        self.handler = handler
        self.logger = logger
        self.metrics = metrics
    }

    /// Consumes until graceful shutdown, then commits finished work and leaves the group.
    ///
    /// Decoding a batch overlaps with handling the one before (say, its database transaction); the
    /// handler still sees the batches one at a time, in order.
    public func run() async throws {
        await withGracefulShutdownHandler {
            var messages = consumer.messages.makeAsyncIterator()
            var handling: Task<Void, Never>?
            while let first = await messages.next() {
                var batch = [first]
                while batch.count < maxBatchSize, let next = messages.nextBuffered() {
                    batch.append(next)
                }
                let accepted = await decodeAndCheck(batch)
                await handling?.value
                handling = accepted.isEmpty ? nil : Task { await handle(accepted) }
                if stopping.isSet { break }
            }
            await handling?.value
        } onGracefulShutdown: { [self] in
            stopping.set()
            consumer.stopConsuming()
        }
        await consumer.close()
    }

    /// Decodes and checks each message, dead-lettering the refused ones; returns the rest.
    func decodeAndCheck(_ batch: [KafkaConsumerMessage]) async -> [ReceivedMessage] {
        var accepted: [ReceivedMessage] = []
        accepted.reserveCapacity(batch.count)
        for message in batch {
            metrics.consumed(from: message.topic)
            let envelope: AnyEnvelope
            do {
                envelope = try decode(message, maxBytes: maxMessageBytes)
            } catch {
                await deadLetters.deadLetter(message, reason: error.description, consumer: consumer, stopping: stopping)
                continue
            }
            let problem = accepting.contains(envelope.type)
                ? check(envelope)
                : "this stage does not handle \(envelope.type.rawValue) messages (found on \(message.topic))"
            if let problem {
                await deadLetters.deadLetter(message, reason: problem, consumer: consumer, stopping: stopping)
            } else {
                accepted.append(ReceivedMessage(envelope: envelope, message: message))
            }
        }
        return accepted
    }

    /// Hands the batch to the handler until it succeeds (or the service stops), then marks it processed.
    func handle(_ accepted: [ReceivedMessage]) async {
        let first = accepted[0].message
        var logger = self.logger
        logger[metadataKey: "kafka.batch"] = "\(accepted.count) messages from \(first.topic)[\(first.partition)]@\(first.offset)"
        logger[metadataKey: "kafka.topic"] = "\(first.topic)"
        logger[metadataKey: "kafka.partition"] = "\(first.partition)"
        logger[metadataKey: "kafka.offset"] = "\(first.offset)"
        let started = ContinuousClock.now
        defer { metrics.processed(batchFrom: first.topic, in: ContinuousClock.now - started) }
        // Stopping first: nothing is marked, so the batch is delivered again.
        let outcome = await retryingOutages(what: "handling a batch", triage: triage, logger: logger, stopping: stopping) {
            try await handler(accepted, logger)
            for received in accepted {
                consumer.markProcessed(received.message)
            }
        }
        guard case .failed(let error, _) = outcome else { return }
        logger.warning("a batch of \(accepted.count) messages keeps failing (\(error)); handling each message alone")
        for received in accepted {
            var single = logger
            single[metadataKey: "kafka.partition"] = "\(received.message.partition)"
            single[metadataKey: "kafka.offset"] = "\(received.message.offset)"
            let alone = await retryingOutages(what: "handling a message", triage: triage, logger: single, stopping: stopping) {
                try await handler([received], single)
                consumer.markProcessed(received.message)
            }
            switch alone {
            case .done: continue
            case .stopped: return
            case .failed(let error, let attempts):
                await deadLetters.deadLetter(received.message, reason: "handling failed \(attempts) times: \(StoreFailure.describe(error))",
                                             consumer: consumer, stopping: stopping)
            }
        }
    }
}
