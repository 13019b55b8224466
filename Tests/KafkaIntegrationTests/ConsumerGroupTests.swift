import Foundation
import Kafka
import Testing

@Suite("Consumer groups and at-least-once commits", .serialized, .timeLimit(.minutes(3)))
struct ConsumerGroupTests {
    /// Produces `count` messages with keys `key-0…` (spread over partitions) and waits for acknowledgement.
    private func produce(_ count: Int, to topic: String, from start: Int = 0) async throws {
        let producer = try TestBroker.producer()
        for index in start..<(start + count) {
            try await producer.enqueue(KafkaProducerMessage(topic: topic, key: "key-\(index)", value: Array("\(index)".utf8)))
        }
        #expect(await producer.flush())
        await producer.shutdown()
        #expect(producer.deliveredCount == count)
    }

    @Test("two consumers in one group split the partitions and each message goes to one of them")
    func twoConsumersSplitPartitions() async throws {
        let topic = try await TestBroker.createTopic("split", partitions: 6)
        let group = "g-\(topic)"
        let first = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: group, topics: [topic]), logger: testLogger)
        let second = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: group, topics: [topic]), logger: testLogger)
        let collector = Collector()
        let readers = [first, second].enumerated().map { index, consumer in consumer.read(into: collector, as: index) }
        // Wait until the group settled: both members hold partitions and together all six.
        try await withTimeLimit(.seconds(45), "the group settling") {
            while true {
                let (a, b) = (Set(first.assignment), Set(second.assignment))
                if !a.isEmpty, !b.isEmpty, a.isDisjoint(with: b), a.union(b).count == 6 { return }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        try await produce(120, to: topic)
        try await withTimeLimit(.seconds(30), "receiving 120 messages") {
            while await collector.total < 120 { try await Task.sleep(for: .milliseconds(100)) }
        }
        first.stopConsuming()
        second.stopConsuming()
        for reader in readers { await reader.value }
        await first.close()
        await second.close()
        let byConsumer = await collector.valuesByConsumer
        #expect(byConsumer[0, default: []].isEmpty == false)
        #expect(byConsumer[1, default: []].isEmpty == false)
        #expect(byConsumer[0, default: []].isDisjoint(with: byConsumer[1, default: []]))
        #expect(byConsumer[0, default: []].union(byConsumer[1, default: []]) == Set((0..<120).map(String.init)))
        #expect(first.rebalanceProtocol == "COOPERATIVE" || first.rebalanceProtocol == "NONE")
    }

    @Test("a restarted consumer resumes after its last commit and receives again what it had not finished")
    func restartResumesAfterLastCommit() async throws {
        let topic = try await TestBroker.createTopic("resume", partitions: 1)
        let group = "g-\(topic)"
        try await produce(10, to: topic)

        let first = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: group, topics: [topic]), logger: testLogger)
        let received = try await first.receive(10, markProcessed: false)
        #expect(received.map(\.offset) == Array(0..<10))
        // Finished out of order: 0–3 and 5. Offset 4 is unfinished, so nothing after it may be committed.
        for message in received where [0, 1, 2, 3, 5].contains(message.offset) {
            first.markProcessed(message)
        }
        #expect(first.inWorkCount == 5)
        await first.close()
        #expect(try await TestBroker.committed(group: group, topic: topic, partitions: 1) == [0: 4])

        let second = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: group, topics: [topic]), logger: testLogger)
        let again = try await second.receive(6)
        #expect(again.map(\.offset) == Array(4..<10))
        await second.close()
        #expect(try await TestBroker.committed(group: group, topic: topic, partitions: 1) == [0: 10])
    }

    @Test("closing commits finished work even when the background commit has not run")
    func closeCommitsFinishedWork() async throws {
        let topic = try await TestBroker.createTopic("close-commits", partitions: 3)
        let group = "g-\(topic)"
        try await produce(30, to: topic)
        let configuration = TestBroker.consumerConfiguration(group: group, topics: [topic], commitInterval: .seconds(600))
        let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
        let received = try await consumer.receive(30)
        var expected: [Int32: Int64] = [:]
        for message in received { expected[message.partition] = max(expected[message.partition] ?? 0, message.offset + 1) }
        // Nothing is committed yet: the background commit runs every 10 minutes here.
        #expect(try await TestBroker.committed(group: group, topic: topic, partitions: 3).values.allSatisfy { $0 < 0 })
        await consumer.close()
        #expect(try await TestBroker.committed(group: group, topic: topic, partitions: 3) == expected)
    }

    @Test("a revoked partition's finished work is committed before it moves; nothing finished is delivered twice")
    func revokeCommitsFinishedWork() async throws {
        let topic = try await TestBroker.createTopic("revoke", partitions: 6)
        let group = "g-\(topic)"
        try await produce(60, to: topic)
        // Only the rebalance (or close) can commit.
        let configuration = TestBroker.consumerConfiguration(group: group, topics: [topic], commitInterval: .seconds(600))
        let first = try KafkaConsumer(configuration: configuration, logger: testLogger)
        _ = try await first.receive(60)
        let firstReader = first.read(into: Collector(), as: 0)

        let second = try KafkaConsumer(configuration: configuration, logger: testLogger)
        let secondCollector = Collector()
        let secondReader = second.read(into: secondCollector, as: 1)
        try await withTimeLimit(.seconds(45), "the second member getting partitions") {
            while second.assignment.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        let moved = second.assignment
        // The moved partitions were committed at their ends by the first member's revocation.
        let offsets = try await TestBroker.committed(group: group, topic: topic, partitions: 6)
        for partition in moved {
            #expect((offsets[partition.partition] ?? -1) > 0, "partition \(partition.partition) was not committed on revoke")
        }
        try await Task.sleep(for: .seconds(2))
        #expect(await secondCollector.total == 0, "finished messages were delivered again")
        first.stopConsuming()
        second.stopConsuming()
        await firstReader.value
        await secondReader.value
        await first.close()
        await second.close()
    }

    @Test("commitProcessed commits finished work at once")
    func commitProcessedCommitsNow() async throws {
        let topic = try await TestBroker.createTopic("commit-now", partitions: 1)
        let group = "g-\(topic)"
        try await produce(5, to: topic)
        let configuration = TestBroker.consumerConfiguration(group: group, topics: [topic], commitInterval: .seconds(600))
        let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
        _ = try await consumer.receive(5)
        try await consumer.commitProcessed()
        #expect(try await TestBroker.committed(group: group, topic: topic, partitions: 1) == [0: 5])
        await consumer.close()
    }

    @Test("a paused consumer fetches nothing until resumed, and keeps its place")
    func pauseAndResume() async throws {
        let topic = try await TestBroker.createTopic("pause", partitions: 2)
        let group = "g-\(topic)"
        try await produce(4, to: topic)
        let consumer = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: group, topics: [topic]), logger: testLogger)
        _ = try await consumer.receive(4)
        consumer.pause()
        #expect(consumer.isPaused)
        try await produce(6, to: topic, from: 4)
        let whilePaused = Collector()
        let reader = consumer.read(into: whilePaused, as: 0)
        try await Task.sleep(for: .seconds(2))
        #expect(await whilePaused.total == 0)
        consumer.resume()
        try await withTimeLimit(.seconds(20), "receiving after resume") {
            while await whilePaused.total < 6 { try await Task.sleep(for: .milliseconds(100)) }
        }
        consumer.stopConsuming()
        await reader.value
        await consumer.close()
        #expect(await whilePaused.valuesByConsumer[0] == Set((4..<10).map(String.init)))
    }
}

extension KafkaConsumer {
    /// Reads until stopped, marking every message processed and collecting it as consumer `index`.
    func read(into collector: Collector, as index: Int) -> Task<Void, Never> {
        Task {
            for await message in messages {
                await collector.add(index, message)
                markProcessed(message)
            }
        }
    }
}

/// Collects message values per consumer across tasks.
actor Collector {
    private(set) var valuesByConsumer: [Int: Set<String>] = [:]
    private(set) var total = 0

    func add(_ consumer: Int, _ message: KafkaConsumerMessage) {
        valuesByConsumer[consumer, default: []].insert(String(decoding: message.value, as: UTF8.self))
        total += 1
    }
}
