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

    func run() async throws {
        await withGracefulShutdownHandler {
            for await message in consumer.messages {
                metrics.consumed(from: message.topic)
                await apply(message)
                consumer.markProcessed(message)
            }
        } onGracefulShutdown: {
            consumer.stopConsuming()
        }
        // Live pages' event streams end here, so the web server can stop without waiting on them.
        await board.close()
        await consumer.close()
    }

    func apply(_ message: KafkaConsumerMessage) async {
        let place = "\(message.topic)[\(message.partition)]@\(message.offset)"
        if message.isTombstone {
            if message.topic == Topics.syncHistory, let key = message.key {
                await board.removeSyncSession(String(decoding: key, as: UTF8.self))
            }
            return
        }
        do {
            let envelope = try MessageCodec.decode(message.value)
            if await board.apply(envelope) == nil {
                logger.warning("skipped a \(envelope.type.rawValue) message at \(place): not a status event")
            }
        } catch {
            logger.warning("skipped an undecodable message at \(place): \(error)")
        }
    }
}
