import Foundation
import Kafka
import Testing

@Suite("Producing and consuming against the broker", .serialized, .timeLimit(.minutes(2)))
struct ProduceConsumeTests {
    @Test("keys, values and headers arrive as sent")
    func keysAndHeadersRoundTrip() async throws {
        let topic = try await TestBroker.createTopic("roundtrip")
        let producer = try TestBroker.producer()
        var sent: [String: String] = [:]
        for index in 0..<20 {
            let key = "job-\(index % 5)"
            try await producer.enqueue(
                KafkaProducerMessage(
                    topic: topic, key: key, value: Array("value-\(index)".utf8),
                    headers: [KafkaHeader(key: "index", text: "\(index)"), KafkaHeader(key: "empty", value: nil)]))
            sent["\(index)"] = key
        }
        #expect(await producer.flush())
        #expect(producer.deliveredCount == 20)
        #expect(producer.failedCount == 0)

        let consumer = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: "g-\(topic)", topics: [topic]),
            logger: testLogger)
        let received = try await consumer.receive(20)
        await consumer.close()
        for message in received {
            let index = try #require(message.header("index")?.text)
            #expect(message.keyText == sent[index])
            #expect(Array(message.value) == Array("value-\(index)".utf8))
            #expect(message.header("empty")?.value == nil)
            #expect(message.timestampMilliseconds != nil)
        }
        #expect(Set(received.compactMap { $0.header("index")?.text }).count == 20)
        // One key always lands on one partition.
        let partitionsByKey = Dictionary(grouping: received, by: { $0.keyText! }).mapValues { Set($0.map(\.partition)) }
        #expect(partitionsByKey.values.allSatisfy { $0.count == 1 })
        await producer.shutdown()
    }

    @Test("values of every size arrive whole and in order, past the shared buffers' limits")
    func valuesOfEverySize() async throws {
        let topic = try await TestBroker.createTopic("value-sizes", partitions: 1)
        let producer = try TestBroker.producer()
        // Small values share a buffer of up to 1 MiB with their neighbours; values over 16 KiB get
        // their own. Sizes on both sides of that line, empty values and tombstones among them, and
        // enough bytes that one poll fills more than one shared buffer.
        let sizes = [0, 1, 100, 16_383, 16_384, 16_385, 40_000] + Array(repeating: 15_000, count: 150) + [3, 0, 70_000, 7]
        var sent: [[UInt8]?] = []
        for (index, size) in sizes.enumerated() {
            let value: [UInt8]? = index % 11 == 5 ? nil : (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            try await producer.enqueue(KafkaProducerMessage(topic: topic, key: "k", value: value))
            sent.append(value)
        }
        #expect(await producer.flush())
        let consumer = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: "g-\(topic)", topics: [topic]), logger: testLogger)
        let received = try await consumer.receive(sent.count)
        await consumer.close()
        try #require(received.count == sent.count)
        for (index, (message, value)) in zip(received, sent).enumerated() {
            #expect(message.isTombstone == (value == nil), "message \(index)")
            #expect(Array(message.value) == (value ?? []), "message \(index) of \(sizes[index]) bytes")
        }
        await producer.shutdown()
    }

    @Test("an awaited send returns the partition and offset the broker wrote")
    func awaitedSend() async throws {
        let topic = try await TestBroker.createTopic("awaited", partitions: 1)
        let producer = try TestBroker.producer()
        let first = try await producer.send(KafkaProducerMessage(topic: topic, key: "a", value: Array("1".utf8)))
        let second = try await producer.send(KafkaProducerMessage(topic: topic, key: "a", value: Array("2".utf8)))
        #expect(first.topic == topic)
        #expect(first.partition == 0)
        #expect(second.offset == first.offset + 1)
        await producer.shutdown()
    }

    @Test("an awaited send to a partition that does not exist throws a delivery error")
    func awaitedSendFails() async throws {
        let topic = try await TestBroker.createTopic("missing-partition", partitions: 1)
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(kafka: TestBroker.kafka, messageTimeout: .seconds(2)), logger: testLogger)
        await #expect(throws: KafkaError.self) {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, partition: 7, value: Array("x".utf8)))
        }
        await producer.shutdown()
    }

    @Test("enqueueIfRoom refuses, queuing nothing, when librdkafka's queue is full; enqueue waits for room")
    func backpressure() async throws {
        let topic = try await TestBroker.createTopic("backpressure", partitions: 1)
        var kafka = TestBroker.kafka
        kafka.properties["queue.buffering.max.messages"] = "1"
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(kafka: kafka, linger: .milliseconds(200)),
            logger: testLogger)
        let message = KafkaProducerMessage(topic: topic, key: "k", value: Array("v".utf8))
        #expect(try producer.enqueueIfRoom(message))
        #expect(try producer.enqueueIfRoom(message) == false)
        try await producer.enqueue(message)  // waits until the first is delivered
        #expect(await producer.flush())
        #expect(producer.deliveredCount == 2)
        await producer.shutdown()
    }
}
