import Foundation
import Kafka
import Testing

@Suite("a consumer of every partition: no group, every message, nothing committed", .serialized, .timeLimit(.minutes(2)))
struct EveryPartitionTests {
    @Test("two such consumers with one group id each read every message of every partition, and commit none")
    func readsAllAlone() async throws {
        let wide = try await TestBroker.createTopic("every-wide", partitions: 3)
        let narrow = try await TestBroker.createTopic("every-narrow", partitions: 1)
        let producer = try TestBroker.producer()
        var sent: Set<String> = []
        for index in 0..<30 {
            let topic = index % 3 == 0 ? narrow : wide
            let value = "\(topic)/\(index)"
            // Keys spread the wide topic's messages over its partitions.
            _ = try await producer.send(KafkaProducerMessage(topic: topic, key: "key-\(index)", value: Array(value.utf8)))
            sent.insert(value)
        }
        await producer.shutdown()

        // One group id for both: members of one group would share the partitions; these do not.
        let group = "g-every-\(UUID().uuidString.prefix(8))"
        var received: [Set<String>] = []
        var partitionsSeen: Set<TopicPartition> = []
        for _ in 0..<2 {
            var configuration = TestBroker.consumerConfiguration(group: group, topics: [wide, narrow])
            configuration.partitions = .every
            let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
            #expect(!consumer.hasJoinedGroup)
            let messages = try await consumer.receive(sent.count)
            #expect(consumer.hasJoinedGroup)
            let every = (0..<3).map { TopicPartition(topic: wide, partition: $0) } + [TopicPartition(topic: narrow, partition: 0)]
            #expect(Set(consumer.assignment) == Set(every))
            received.append(Set(messages.map { String(decoding: $0.value, as: UTF8.self) }))
            partitionsSeen.formUnion(messages.map(\.topicPartition))
            try await consumer.commitProcessed()
            await consumer.close()
        }
        #expect(received == [sent, sent])
        #expect(partitionsSeen.count == 4, "the keys reached every partition")
        let committed = try await TestBroker.committed(group: group, topic: wide, partitions: 3)
        #expect(committed.values.allSatisfy { $0 < 0 }, "committed: \(committed)")
        let committedNarrow = try await TestBroker.committed(group: group, topic: narrow, partitions: 1)
        #expect(committedNarrow.values.allSatisfy { $0 < 0 }, "committed: \(committedNarrow)")
    }

    @Test("a topic created after the consumer started is read once it exists")
    func findsALateTopic() async throws {
        let early = try await TestBroker.createTopic("every-early", partitions: 1)
        let late = TestBroker.uniqueTopic("every-late")
        var configuration = TestBroker.consumerConfiguration(group: "g-\(late)", topics: [early, late])
        configuration.partitions = .every
        let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
        let producer = try TestBroker.producer()
        _ = try await producer.send(KafkaProducerMessage(topic: early, key: "k", value: Array("early".utf8)))
        // Read the first topic's message first: the consumer has looked, and found no `late`.
        let first = try await consumer.receive(1)
        #expect(first.map(\.topic) == [early])
        #expect(consumer.assignment == [TopicPartition(topic: early, partition: 0)])

        let admin = try KafkaAdmin(configuration: TestBroker.kafka, logger: testLogger)
        #expect(try await admin.createTopics([TopicSpec(name: late, partitions: 2)])[late] == .created)
        _ = try await producer.send(KafkaProducerMessage(topic: late, key: "k", value: Array("late".utf8)))
        await producer.shutdown()
        let second = try await consumer.receive(1)
        #expect(second.map { String(decoding: $0.value, as: UTF8.self) } == ["late"])
        #expect(Set(consumer.assignment).count == 3)
        await consumer.close()
    }
}
