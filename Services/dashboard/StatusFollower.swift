import JobstreamDashboard
import JobstreamMessages
import JobstreamService
import Kafka
import Logging
import ServiceLifecycle

/// Reads the three status topics from their start into the dashboard's board, then follows them.
/// A message that is not a status event is logged with its topic, partition and offset and skipped:
/// a dashboard only reads, so it dead-letters nothing (the services that own the topics do).
struct StatusFollower: Service {
    let consumer: KafkaConsumer
    let board: StatusBoard
    let metrics: ServiceMetrics
    let logger: Logger

    /// The most messages taken to the board in one call.
    static let batchSize = 1_000

    func run() async throws {
        await withGracefulShutdownHandler {
            var messages = consumer.messages.makeAsyncIterator()
            while let first = await messages.next() {
                var batch = [first]
                while batch.count < Self.batchSize, let next = messages.nextBuffered() { batch.append(next) }
                await apply(batch)
                for message in batch { consumer.markProcessed(message) }
            }
        } onGracefulShutdown: {
            consumer.stopConsuming()
        }
        // Live pages' event streams end here, so the web server can stop without waiting on them.
        await board.close()
        await consumer.close()
    }

    /// Decodes what arrived here, off the board, and hands the board the batch in one call.
    func apply(_ batch: [KafkaConsumerMessage]) async {
        // Each change with the message it came in, so a warning can say where that was.
        var changes: [StatusBoard.Change] = []
        var sources: [KafkaConsumerMessage] = []
        changes.reserveCapacity(batch.count)
        sources.reserveCapacity(batch.count)
        for message in batch {
            metrics.consumed(from: message.topic)
            if message.isTombstone {
                if message.topic == Topics.syncHistory, let key = message.key {
                    changes.append(.syncSessionRemoved(String(decoding: key, as: UTF8.self)))
                    sources.append(message)
                }
                continue
            }
            do {
                changes.append(.event(try MessageCodec.decode(message.value)))
                sources.append(message)
            } catch {
                logger.warning("skipped an undecodable message at \(Self.place(of: message)): \(error)")
            }
        }
        for position in await board.apply(changes) {
            guard case .event(let envelope) = changes[position] else { continue }
            logger.warning(
                "skipped a \(envelope.type.rawValue) message at \(Self.place(of: sources[position])): not a status event, or older than the one held"
            )
        }
    }

    static func place(of message: KafkaConsumerMessage) -> String {
        "\(message.topic)[\(message.partition)]@\(message.offset)"
    }
}
