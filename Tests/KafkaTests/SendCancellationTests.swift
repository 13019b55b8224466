import Logging
import Testing

@testable import Kafka

/// An awaited send stops waiting when its task is cancelled, instead of holding the task until the
/// message times out. No broker: the one named cannot be reached, so no send can ever complete.
@Suite("Send cancellation")
struct SendCancellationTests {
    @Test("a send to an unreachable broker ends with CancellationError when its task is cancelled")
    func cancelledSendReturns() async throws {
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(
                kafka: KafkaConfiguration(brokers: "127.0.0.1:1"), messageTimeout: .seconds(300)),
            logger: Logger(label: "test"))
        let send = Task { try await producer.send(KafkaProducerMessage(topic: "nowhere", value: Array("x".utf8))) }
        // Once the message is queued the send is waiting for a delivery report that cannot come for 300 s.
        while producer.queuedByTopic["nowhere"] != 1 { try await Task.sleep(for: .milliseconds(1)) }
        send.cancel()
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await send.value }
        #expect(ContinuousClock.now - started < .seconds(30), "a cancelled send returns at once, not at the message timeout")
        let early = Task { try await producer.send(KafkaProducerMessage(topic: "nowhere", value: [])) }
        early.cancel()
        await #expect(throws: CancellationError.self) { try await early.value }
        await producer.shutdown(timeout: .milliseconds(10))
    }
}
