import Dispatch
import Logging

/// A topic to create: name, partitions, replication and topic-level configs.
public struct TopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    /// -1 takes the broker's default.
    public var replicationFactor: Int32
    /// Topic configs, e.g. `cleanup.policy=compact`, `retention.ms=604800000`.
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What creating one topic did.
public enum TopicCreationOutcome: Sendable, Hashable {
    case created
    /// Not an error: provisioning is idempotent.
    case alreadyExisted
    case failed(String)
}

/// Topic administration: create, list, describe.
public final class KafkaAdmin: Sendable {
    private let client: RDKafkaClient
    private let timeout: Duration

    public init(configuration: KafkaConfiguration, logger: Logger, timeout: Duration = .seconds(30)) throws {
        self.client = try RDKafkaClient(
            kind: .producer, properties: configuration.librdkafkaProperties(),
            context: RDKafkaClientContext(logger: logger))
        self.timeout = timeout
    }

    /// Creates `topics`. An already existing topic is reported as `.alreadyExisted`, not as an error.
    public func createTopics(_ topics: [TopicSpec]) async throws -> [String: TopicCreationOutcome] {
        try await blocking { client, timeout in try client.createTopics(topics, timeoutMilliseconds: timeout) }
    }

    /// Every topic in the cluster with its partition count.
    public func listTopics() async throws -> [String: Int] {
        try await blocking { client, timeout in try client.topicPartitionCounts(timeoutMilliseconds: timeout) }
    }

    /// A topic's configuration as the broker reports it.
    public func describeTopicConfigs(_ topic: String) async throws -> [String: String] {
        try await blocking { client, timeout in try client.describeTopicConfigs(topic, timeoutMilliseconds: timeout) }
    }

    private func blocking<T: Sendable>(_ body: @escaping @Sendable (RDKafkaClient, Int32) throws -> T) async throws -> T {
        let client = self.client
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await Kafka.blocking { try body(client, milliseconds) }
    }
}
