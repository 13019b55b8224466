import JobstreamMessages
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

/// Consumes messages in batches: whatever has arrived, up to `maxBatchSize`, goes to the handler in
/// one call. For stages whose cost is per batch rather than per message, such as a database commit.
///
/// A message that is too large, cannot be decoded, is of a type the stage does not accept, or fails
/// the check is dead-lettered with the reason (``MessageIntake``), and the rest of its batch is
/// handled. The batch is marked processed only after the handler returned, so nothing is committed
/// before its effect is durable. A failure is retried with backoff: without limit while it is an
/// outage of the store or the broker; when it is a fault of the batch (``FailureTriage``), each of
/// its messages is then handled alone, so only the message at fault is dead-lettered and the rest
/// are recorded.
public final class BatchMessageLoop: Service, Sendable {
    private let intake: MessageIntake
    private let maxBatchSize: Int
    private let handler: BatchHandler

    public init(
        consumer: KafkaConsumer, deadLetters: DeadLetterPublisher, accepting: Set<MessageType>, maxBatchSize: Int,
        logger: Logger, metrics: ServiceMetrics = ServiceMetrics(), triage: FailureTriage = FailureTriage(store: nil),
        maxMessageBytes: Int = InputLimits.defaultMessageBytes, check: @escaping MessageCheck,
        handler: @escaping BatchHandler
    ) {
        intake = MessageIntake(
            consumer: consumer, deadLetters: deadLetters, accepting: accepting, check: check,
            logger: logger, metrics: metrics, triage: triage, maxMessageBytes: maxMessageBytes)
        self.maxBatchSize = max(1, maxBatchSize)
        self.handler = handler
    }

    /// Consumes until graceful shutdown, then commits finished work and leaves the group.
    ///
    /// Decoding a batch overlaps with handling the one before (say, its database transaction); the
    /// handler still sees the batches one at a time, in order.
    public func run() async throws {
        await intake.run { messages in
            var handling: Task<Void, Never>?
            while let first = await messages.next() {
                var batch = [first]
                while batch.count < maxBatchSize, let next = messages.nextBuffered() {
                    batch.append(next)
                }
                var accepted: [ReceivedMessage] = []
                accepted.reserveCapacity(batch.count)
                for message in batch {
                    if let envelope = await intake.accept(message) {
                        accepted.append(ReceivedMessage(envelope: envelope, message: message))
                    }
                }
                await handling?.value
                handling = accepted.isEmpty ? nil : Task { [accepted] in await handle(accepted) }
                if intake.stopping.isSet { break }
            }
            await handling?.value
        }
    }

    /// Hands the batch to the handler until it succeeds (or the service stops), then marks it processed.
    func handle(_ accepted: [ReceivedMessage]) async {
        let first = accepted[0].message
        var logger = intake.logger(for: first)
        logger[metadataKey: "kafka.batch"] = "\(accepted.count) messages from \(first.topic)[\(first.partition)]@\(first.offset)"
        let started = ContinuousClock.now
        defer { intake.metrics.processed(batchFrom: first.topic, in: ContinuousClock.now - started) }
        // Stopping first: nothing is marked, so the batch is delivered again.
        let outcome = await intake.retrying("handling a batch", logger: logger) {
            try await handler(accepted, logger)
            for received in accepted {
                intake.consumer.markProcessed(received.message)
            }
        }
        guard case .failed(let error, _) = outcome else { return }
        logger.warning("a batch of \(accepted.count) messages keeps failing (\(error)); handling each message alone")
        for received in accepted {
            let single = intake.logger(for: received.message, jobId: received.envelope.jobId)
            let alone = await intake.retrying("handling a message", logger: single) {
                try await handler([received], single)
                intake.consumer.markProcessed(received.message)
            }
            switch alone {
            case .done: continue
            case .stopped: return
            case .failed(let error, let attempts):
                await intake.deadLetter(received.message, failedWith: error, attempts: attempts)
            }
        }
    }
}
