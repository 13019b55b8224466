import ArgumentParser
import JobstreamMessages
import Kafka

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the message schema version and the linked librdkafka, and check it.")

    func run() async throws {
        print("message schema \(SchemaVersion.current)")
        print("librdkafka \(LibrdkafkaVersion.linkedText)")
        try LibrdkafkaVersion.requireSupported()
    }
}
