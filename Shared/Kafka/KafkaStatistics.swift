import Foundation

/// The part of librdkafka's statistics (STATISTICS.md) that jobstream reports as metrics: consumer
/// lag per partition, the producer's queue, broker round-trip times and the group's state.
///
/// librdkafka emits the statistics every `statistics.interval.ms` on a client created with a
/// statistics handler (see ``ConsumerConfiguration/statisticsInterval``).
public struct KafkaStatistics: Decodable, Sendable {
    /// "producer" or "consumer".
    public var type: String
    /// Messages waiting in the producer's queues (`msg_cnt`).
    public var queuedMessages: Int
    /// The client's brokers by librdkafka's name for them ("host:port/nodeid").
    public var brokers: [String: Broker]
    /// The topics the client knows, by name.
    public var topics: [String: Topic]
    /// The consumer group, for a consumer that subscribed.
    public var consumerGroup: ConsumerGroup?

    /// One broker connection.
    public struct Broker: Decodable, Sendable {
        /// The broker's id, or -1 for a bootstrap address not yet matched to a broker.
        public var nodeID: Int
        /// Connection state, e.g. "UP", "DOWN", "INIT".
        public var state: String
        /// Request round-trip times in microseconds over the last interval.
        public var roundTrip: Window?

        enum CodingKeys: String, CodingKey {
            case nodeID = "nodeid", state, roundTrip = "rtt"
        }
    }

    /// Percentiles of a rolling window of samples.
    public struct Window: Decodable, Sendable {
        public var avg: Int
        public var p99: Int
    }

    /// One topic's partitions, by partition number as text ("-1" is librdkafka's internal unassigned one).
    public struct Topic: Decodable, Sendable {
        public var partitions: [String: Partition]
    }

    /// One partition as this client sees it.
    public struct Partition: Decodable, Sendable {
        public var partition: Int32
        /// The end offset minus the group's committed offset; -1 where either is unknown.
        public var consumerLag: Int64
        /// Fetch state, e.g. "active" for a partition this consumer fetches, "none" otherwise.
        public var fetchState: String

        enum CodingKeys: String, CodingKey {
            case partition, consumerLag = "consumer_lag", fetchState = "fetch_state"
        }
    }

    /// The consumer group's state.
    public struct ConsumerGroup: Decodable, Sendable {
        /// "up" once the group coordinator is known.
        public var state: String
        /// "steady" once the member has its assignment.
        public var joinState: String
        /// Partitions assigned to this member.
        public var assignmentSize: Int

        enum CodingKeys: String, CodingKey {
            case state, joinState = "join_state", assignmentSize = "assignment_size"
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, queuedMessages = "msg_cnt", brokers, topics, consumerGroup = "cgrp"
    }

    /// Parses one statistics document.
    public static func parse(_ json: String) throws -> KafkaStatistics {
        try JSONDecoder().decode(KafkaStatistics.self, from: Data(json.utf8))
    }

    /// The lag of one partition this consumer fetches.
    public struct PartitionLag: Hashable, Sendable {
        public var topic: String
        public var partition: Int32
        public var lag: Int64

        public init(topic: String, partition: Int32, lag: Int64) {
            self.topic = topic
            self.partition = partition
            self.lag = lag
        }
    }

    /// The lag of every partition this consumer is fetching and whose lag is known, sorted by topic
    /// and partition. Partitions of other members, and librdkafka's internal partition -1, are left out.
    public var partitionLags: [PartitionLag] {
        topics.flatMap { name, topic in
            topic.partitions.values
                .filter { $0.partition >= 0 && $0.fetchState != "none" && $0.consumerLag >= 0 }
                .map { PartitionLag(topic: name, partition: $0.partition, lag: $0.consumerLag) }
        }
        .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
