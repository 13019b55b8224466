import Foundation
import Kafka
import Synchronization
import Testing

@Suite("librdkafka's statistics: consumer lag and group membership", .serialized, .timeLimit(.minutes(2)))
struct StatisticsTests {
    @Test("the lag of a partition follows the group's commits, up while work is unfinished and back to 0")
    func lagFollowsCommits() async throws {
        let topic = try await TestBroker.createTopic("lag", partitions: 1)
        // One acknowledged send at a time: each message is a batch of its own, so the embedded broker's
        // end offset is right (it is wrong after a batch of several messages; see PRODUCT.md).
        let producer = try TestBroker.producer()
        for index in 0..<10 {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: Array("\(index)".utf8)))
        }
        await producer.shutdown()

        let latest = Mutex<KafkaStatistics?>(nil)
        var configuration = TestBroker.consumerConfiguration(group: "g-\(topic)", topics: [topic], commitInterval: .seconds(600))
        configuration.statisticsInterval = .milliseconds(200)
        let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger) { statistics in
            latest.withLock { $0 = statistics }
        }
        #expect(!consumer.hasJoinedGroup)
        let received = try await consumer.receive(10, markProcessed: false)
        #expect(consumer.hasJoinedGroup)
        // Statistics are served by polls, as a service's consume loop keeps polling.
        let polling = Task { for await _ in consumer.messages {} }
        for message in received.prefix(3) {
            consumer.markProcessed(message)
        }
        try await consumer.commitProcessed()
        let unfinished = try await lag(of: topic, in: latest, until: { $0 == 7 })
        #expect(unfinished == 7)

        for message in received.dropFirst(3) {
            consumer.markProcessed(message)
        }
        try await consumer.commitProcessed()
        #expect(try await lag(of: topic, in: latest, until: { $0 == 0 }) == 0)
        #expect(latest.withLock { $0?.consumerGroup?.joinState } == "steady")
        consumer.stopConsuming()
        await polling.value
        await consumer.close()
        #expect(!consumer.hasJoinedGroup)
    }

    /// Waits (polling the statistics that keep arriving) until partition 0's lag satisfies `done`; returns it.
    private func lag(
        of topic: String, in latest: borrowing Mutex<KafkaStatistics?>,
        until done: @escaping @Sendable (Int64) -> Bool
    ) async throws -> Int64 {
        let deadline = ContinuousClock.now + .seconds(20)
        var seen: Int64?
        while ContinuousClock.now < deadline {
            seen = latest.withLock { $0 }?.partitionLags.first { $0.topic == topic && $0.partition == 0 }?.lag
            if let seen, done(seen) { return seen }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the lag of \(topic)[0] never got there; last seen: \(String(describing: seen))")
    }
}
