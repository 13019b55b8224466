import Foundation
import Testing

@testable import Kafka

@Suite("A slow consumer stays in its group", .timeLimit(.minutes(3)))
struct SlowConsumerTests {
    @Test("messages handled slower than max.poll.interval.ms in all are each delivered, in order, without leaving the group")
    func slowHandlingKeepsMembership() async throws {
        let topic = try await TestBroker.createTopic("slow", partitions: 1)
        let producer = try TestBroker.producer()
        for index in 0..<16 {
            try await producer.enqueue(KafkaProducerMessage(topic: topic, key: "k", value: Array("\(index)".utf8)))
        }
        #expect(await producer.flush())
        await producer.shutdown()
        // max.poll.interval.ms is 6 s; handling takes at least 16 × 0.5 s = 8 s, all fetched in one poll.
        var configuration = TestBroker.consumerConfiguration(group: "g-\(topic)", topics: [topic])
        configuration.maxPollInterval = .seconds(6)
        let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
        let values = try await withTimeLimit(.seconds(90), "handling 16 messages slowly") {
            var values: [String] = []
            for await message in consumer.messages {
                try await Task.sleep(for: .milliseconds(500))
                values.append(String(decoding: message.value, as: UTF8.self))
                consumer.markProcessed(message)
                if values.count == 16 { break }
            }
            return values
        }
        #expect(values == (0..<16).map(String.init))
        #expect(consumer.assignment == [TopicPartition(topic: topic, partition: 0)], "still a member holding its partition")
        #expect(consumer.rebalanceCount == 1, "the first assignment only: it never left the group")
        try await consumer.commitProcessed()
        await consumer.close()
    }
}
