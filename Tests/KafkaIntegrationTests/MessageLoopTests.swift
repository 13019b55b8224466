import Foundation
import JobstreamMessages
import JobstreamService
import Kafka
import Logging
import ServiceLifecycle
import Testing

@Suite("The service message loop: dead letters, retries, graceful shutdown", .serialized, .timeLimit(.minutes(3)))
struct MessageLoopTests {
    private struct Fixture {
        let input: String
        let deadLetters: String
        let group: String
        let producer: KafkaProducer
        let consumer: KafkaConsumer
        let loop: MessageLoop
    }

    private func fixture(
        commitInterval: Duration = .milliseconds(200),
        handler: @escaping MessageHandler
    ) async throws -> Fixture {
        let input = try await TestBroker.createTopic("loop-in", partitions: 1)
        let deadLetters = try await TestBroker.createTopic("loop-dlq", partitions: 1)
        let group = "g-\(input)"
        let producer = try TestBroker.producer()
        let consumer = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(group: group, topics: [input], commitInterval: commitInterval),
            logger: testLogger)
        let publisher = DeadLetterPublisher(producer: producer, consumerGroup: group, topic: deadLetters, logger: testLogger)
        let loop = MessageLoop(consumer: consumer, deadLetters: publisher, logger: testLogger, handler: handler)
        return Fixture(input: input, deadLetters: deadLetters, group: group, producer: producer, consumer: consumer, loop: loop)
    }

    private func send(_ values: [[UInt8]], to topic: String, with producer: KafkaProducer) async throws {
        for value in values {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, key: "job-1", value: value))
        }
    }

    /// A small well-formed message for job `jobId`.
    private func message(jobId: String) throws -> [UInt8] {
        try MessageCodec.encode(MigrationRequest(cutoverDate: CalendarDate("2024-01-01")!, generatedBy: "ops"), jobId: jobId)
    }

    @Test("a message that cannot be decoded goes to the dead-letter topic with its origin, and the next is still handled")
    func poisonMessageIsDeadLettered() async throws {
        let handled = JobIDs()
        let fixture = try await fixture { envelope, _, _ in await handled.add(envelope.jobId) }
        try await send(
            [Array("{\"type\": 42".utf8), try message(jobId: "after-poison")], to: fixture.input, with: fixture.producer)
        let running = Task { try await fixture.loop.run() }
        try await withTimeLimit(.seconds(30), "handling the valid message") {
            while await handled.ids.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        fixture.consumer.stopConsuming()
        try await running.value
        #expect(await handled.ids == ["after-poison"])

        let reader = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(
                group: "r-\(fixture.deadLetters)",
                topics: [fixture.deadLetters]),
            logger: testLogger)
        let letters = try await reader.receive(1)
        await reader.close()
        let letter = try #require(letters.first)
        #expect(Array(letter.value) == Array("{\"type\": 42".utf8))
        #expect(letter.keyText == "job-1")
        #expect(letter.header(DeadLetterHeaders.originalTopic)?.text == fixture.input)
        #expect(letter.header(DeadLetterHeaders.originalPartition)?.text == "0")
        #expect(letter.header(DeadLetterHeaders.originalOffset)?.text == "0")
        #expect(letter.header(DeadLetterHeaders.consumerGroup)?.text == fixture.group)
        #expect(letter.header(DeadLetterHeaders.error)?.text?.hasPrefix("not a JSON message") == true)
        #expect(letter.header(DeadLetterHeaders.failedAt)?.text.flatMap(Timestamp.parse) != nil)
        // Both offsets are committed: the poison message is not delivered again.
        #expect(try await TestBroker.committed(group: fixture.group, topic: fixture.input, partitions: 1) == [0: 2])
        await fixture.producer.shutdown()
    }

    @Test("a handler's UnprocessableMessage dead-letters the message with its reason")
    func unprocessableIsDeadLettered() async throws {
        let fixture = try await fixture { envelope, _, _ in
            if envelope.jobId == "bad" { throw UnprocessableMessage("job bad refers to nothing") }
        }
        try await send([try message(jobId: "bad"), try message(jobId: "good")], to: fixture.input, with: fixture.producer)
        let running = Task { try await fixture.loop.run() }
        let reader = try KafkaConsumer(
            configuration: TestBroker.consumerConfiguration(
                group: "r-\(fixture.deadLetters)",
                topics: [fixture.deadLetters]),
            logger: testLogger)
        let letters = try await reader.receive(1)
        await reader.close()
        fixture.consumer.stopConsuming()
        try await running.value
        #expect(letters.first?.header(DeadLetterHeaders.error)?.text == "job bad refers to nothing")
        #expect(letters.first?.header(DeadLetterHeaders.originalOffset)?.text == "0")
        await fixture.producer.shutdown()
    }

    @Test("a failing handler is retried until it succeeds; the message is neither lost nor dead-lettered")
    func transientFailuresAreRetried() async throws {
        let attempts = JobIDs()
        let fixture = try await fixture { envelope, _, _ in
            await attempts.add(envelope.jobId)
            if await attempts.ids.count < 3 { throw TestFailure("the store is down") }
        }
        try await send([try message(jobId: "flaky")], to: fixture.input, with: fixture.producer)
        let running = Task { try await fixture.loop.run() }
        try await withTimeLimit(.seconds(30), "three attempts") {
            while await attempts.ids.count < 3 { try await Task.sleep(for: .milliseconds(100)) }
        }
        try await Task.sleep(for: .milliseconds(500))
        fixture.consumer.stopConsuming()
        try await running.value
        #expect(await attempts.ids == ["flaky", "flaky", "flaky"])
        #expect(try await TestBroker.committed(group: fixture.group, topic: fixture.input, partitions: 1) == [0: 1])
        let topics = try await KafkaAdmin(configuration: TestBroker.kafka, logger: testLogger).listTopics()
        #expect(topics[fixture.deadLetters] == 1)
        await fixture.producer.shutdown()
    }

    @Test("a dead letter is not published, and not waited for, once the service gives up (shutting down)")
    func deadLetterGivesUp() async throws {
        let topic = try await TestBroker.createTopic("dlq-give-up", partitions: 1)
        let producer = try TestBroker.producer()
        let publisher = DeadLetterPublisher(producer: producer, consumerGroup: "g", topic: topic, logger: testLogger)
        let message = KafkaConsumerMessage(
            topic: "in", partition: 0, offset: 7, key: nil, value: Array("x".utf8)[...],
            headers: [], timestampMilliseconds: nil)
        await #expect(throws: CancellationError.self) {
            try await publisher.publish(message, reason: "bad", giveUp: { true })
        }
        #expect(await producer.flush())
        #expect(producer.deliveredCount == 0)
        try await publisher.publish(message, reason: "bad")
        #expect(producer.deliveredCount == 1)
        await producer.shutdown()
    }

    @Test("graceful shutdown of the service group commits handled messages and leaves the group")
    func gracefulShutdownCommits() async throws {
        let handled = JobIDs()
        let fixture = try await fixture(commitInterval: .seconds(600)) { envelope, _, _ in await handled.add(envelope.jobId) }
        try await send(try (0..<5).map { try message(jobId: "job-\($0)") }, to: fixture.input, with: fixture.producer)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: fixture.producer), .init(service: fixture.loop)], logger: testLogger))
        let running = Task { try await group.run() }
        try await withTimeLimit(.seconds(30), "handling five messages") {
            while await handled.ids.count < 5 { try await Task.sleep(for: .milliseconds(100)) }
        }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(fixture.consumer.isClosed)
        #expect(try await TestBroker.committed(group: fixture.group, topic: fixture.input, partitions: 1) == [0: 5])
    }
}

/// Job ids seen by a handler, across tasks.
actor JobIDs {
    private(set) var ids: [String] = []

    func add(_ id: String) { ids.append(id) }
}
