import Foundation
import JobstreamMessages
import Kafka
import Testing

@Suite("Topic administration", .serialized, .timeLimit(.minutes(1)))
struct TopicAdminTests {
    @Test("creating a topic twice is not an error, and its partitions and configs are as asked")
    func createIsIdempotent() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.kafka, logger: testLogger)
        let name = TestBroker.uniqueTopic("admin")
        let spec = TopicSpec(name: name, partitions: 4, configs: ["cleanup.policy": "compact", "retention.ms": "3600000"])
        #expect(try await admin.createTopics([spec]) == [name: .created])
        #expect(try await admin.createTopics([spec]) == [name: .alreadyExisted])
        #expect(try await admin.listTopics()[name] == 4)
        let configs = try await admin.describeTopicConfigs(name)
        #expect(configs["cleanup.policy"] == "compact")
        #expect(configs["retention.ms"] == "3600000")
    }

    // The test broker accepts any topic name, so a broker-side refusal (reported as `.failed`) cannot
    // be provoked here; a specification librdkafka itself refuses can.
    @Test("an invalid topic specification is refused with an error naming the topic")
    func invalidTopicFails() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.kafka, logger: testLogger)
        let name = TestBroker.uniqueTopic("admin-bad")
        let error = await #expect(throws: KafkaError.self) {
            _ = try await admin.createTopics([TopicSpec(name: name, partitions: -5)])
        }
        #expect(error?.code == .admin)
        #expect(error?.reason.contains(name) == true)
        #expect(try await admin.listTopics()[name] == nil)
    }

    @Test("jobstream's status topics are compacted and its work topics expire")
    func topicDefinitions() {
        for topic in [Topics.backfillStatus, Topics.migrationStatus, Topics.syncHistory] {
            #expect(Topics.definition(named: topic)?.configs["cleanup.policy"] == "compact")
        }
        for topic in Topics.all where !topic.name.hasSuffix("status") && topic.name != Topics.syncHistory {
            #expect(topic.configs["cleanup.policy"] == "delete")
            #expect(Int(topic.configs["retention.ms"] ?? "") != nil)
        }
        #expect(Set(Topics.all.flatMap(\.messageTypes)) == Set(MessageType.allCases))
    }
}

@Suite("librdkafka version check")
struct LibrdkafkaVersionTests {
    @Test("the linked librdkafka is 2.2 or newer, and the one the build expects")
    func linkedVersionIsSupported() throws {
        #expect(LibrdkafkaVersion.isSupported(LibrdkafkaVersion.linked))
        try LibrdkafkaVersion.requireSupported()
        if let expected = ProcessInfo.processInfo.environment["JOBSTREAM_EXPECT_LIBRDKAFKA"] {
            #expect(LibrdkafkaVersion.linkedText == expected)
        }
    }

    @Test("2.0.2 (Debian 12's) is refused with a message that says what to do")
    func oldVersionIsRefused() {
        let error = #expect(throws: KafkaError.self) {
            try LibrdkafkaVersion.requireSupported(version: 0x0200_02FF, text: "2.0.2")
        }
        #expect(error?.code == .unsupportedLibrary)
        #expect(error?.reason.contains("librdkafka 2.0.2") == true)
        #expect(error?.reason.contains("make librdkafka") == true)
    }

    @Test(
        "the boundary is 2.2.0",
        arguments: [
            (0x0201_01FF, false), (0x0202_0000, false), (0x0202_00FF, true),
            (0x0208_00FF, true), (0x0300_00FF, true),
        ])
    func boundary(version: Int32, supported: Bool) {
        #expect(LibrdkafkaVersion.isSupported(version) == supported)
    }

    @Test("an unknown librdkafka property is refused, naming it")
    func unknownPropertyRefused() {
        var kafka = TestBroker.kafka
        kafka.properties["no.such.property"] = "1"
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: ProducerConfiguration(kafka: kafka), logger: testLogger)
        }
        #expect(error?.code == .configuration)
        #expect(error?.reason.contains("no.such.property") == true)
    }
}
