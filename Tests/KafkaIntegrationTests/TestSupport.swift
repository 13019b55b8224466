import Foundation
import Kafka
import Logging

/// The broker every integration test talks to: `KAFKA_BROKERS`, or the embedded one.
/// There is no fallback: without a broker these tests fail, they never skip.
enum TestBroker {
    static var address: String {
        ProcessInfo.processInfo.environment["KAFKA_BROKERS"] ?? KafkaConfiguration.embeddedBrokerAddress
    }

    static var kafka: KafkaConfiguration { KafkaConfiguration(brokers: address, clientID: "jobstream-tests") }

    /// A topic name no other test uses.
    static func uniqueTopic(_ purpose: String) -> String {
        "test.\(purpose).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Creates a topic and returns its name.
    static func createTopic(_ purpose: String, partitions: Int32 = 3) async throws -> String {
        let topic = uniqueTopic(purpose)
        let admin = try KafkaAdmin(configuration: kafka, logger: testLogger)
        let outcome = try await admin.createTopics([TopicSpec(name: topic, partitions: partitions)])
        guard outcome[topic] == .created else { throw TestFailure("creating \(topic): \(String(describing: outcome[topic]))") }
        return topic
    }

    /// A consumer with the short group timeouts that make a join take seconds on the test broker.
    /// A long `commitInterval` keeps the background commit out of a test, so only the code under test commits.
    static func consumerConfiguration(
        group: String, topics: [String],
        commitInterval: Duration = .milliseconds(200)
    ) -> ConsumerConfiguration {
        ConsumerConfiguration(
            kafka: kafka, groupID: group, topics: topics, sessionTimeout: .seconds(6),
            maxPollInterval: .seconds(10), commitInterval: commitInterval,
            fetchWaitMax: .milliseconds(20))
    }

    /// The group's committed offsets per partition, read by a member with no topics (it never joins).
    static func committed(group: String, topic: String, partitions: Int32) async throws -> [Int32: Int64] {
        let reader = try KafkaConsumer(configuration: consumerConfiguration(group: group, topics: []), logger: testLogger)
        let offsets = try await reader.committedOffsets(for: (0..<partitions).map { TopicPartition(topic: topic, partition: $0) })
        return Dictionary(uniqueKeysWithValues: offsets.map { ($0.key.partition, $0.value) })
    }

    static func producer() throws -> KafkaProducer {
        try KafkaProducer(configuration: ProducerConfiguration(kafka: kafka, linger: .milliseconds(1)), logger: testLogger)
    }
}

/// Logs at warning and above unless `TEST_LOG_LEVEL` says otherwise.
let testLogger: Logger = {
    var logger = Logger(label: "jobstream.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, failing if it takes longer than `limit`.
func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let result = first else {
            group.cancelAll()
            throw TestFailure("\(what) did not finish within \(limit)")
        }
        group.cancelAll()
        return result
    }
}

extension KafkaConsumer {
    /// Receives `count` messages (marking each processed unless told not to), failing after `limit`.
    func receive(
        _ count: Int, markProcessed: Bool = true, within limit: Duration = .seconds(30)
    ) async throws
        -> [KafkaConsumerMessage]
    {
        try await withTimeLimit(limit, "receiving \(count) messages") {
            var received: [KafkaConsumerMessage] = []
            for await message in self.messages {
                received.append(message)
                if markProcessed { self.markProcessed(message) }
                if received.count == count { break }
            }
            return received
        }
    }
}
