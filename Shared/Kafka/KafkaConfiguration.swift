/// Settings shared by every Kafka client: where the cluster is, who we are, and any librdkafka
/// property to pass through (TLS, SASL and the rest of librdkafka's CONFIGURATION.md).
public struct KafkaConfiguration: Sendable {
    /// The address the embedded development broker listens on.
    public static let embeddedBrokerAddress = "127.0.0.1:9092"

    /// Bootstrap servers, `host:port[,host:port…]`.
    public var brokers: String
    /// The client id brokers see in their logs and quotas.
    public var clientID: String
    /// librdkafka properties applied after (and so overriding) the typed settings,
    /// e.g. `security.protocol=SASL_SSL`, `sasl.mechanisms=SCRAM-SHA-512`.
    public var properties: [String: String]

    public init(brokers: String = embeddedBrokerAddress, clientID: String = "jobstream", properties: [String: String] = [:]) {
        self.brokers = brokers
        self.clientID = clientID
        self.properties = properties
    }

    /// The librdkafka properties for these settings plus a client's typed `settings`, with the
    /// pass-through properties applied last so they override both.
    func librdkafkaProperties(with settings: [String: String] = [:]) -> [String: String] {
        ["bootstrap.servers": brokers, "client.id": clientID]
            .merging(settings) { _, setting in setting }
            .merging(properties) { _, passedThrough in passedThrough }
    }
}

/// Settings of a ``KafkaProducer``.
public struct ProducerConfiguration: Sendable {
    /// The cluster and pass-through properties.
    public var kafka: KafkaConfiguration
    /// How long librdkafka waits to fill a batch (`linger.ms`).
    public var linger: Duration
    /// How long a message may take to be acknowledged before it fails (`message.timeout.ms`).
    public var messageTimeout: Duration
    /// Compression of produced batches (`compression.type`): none, gzip, snappy, lz4, zstd.
    public var compression: String
    /// How often librdkafka reports its statistics to the producer's statistics handler (nil: never).
    public var statisticsInterval: Duration?

    public init(
        kafka: KafkaConfiguration, linger: Duration = .milliseconds(5), messageTimeout: Duration = .seconds(60),
        compression: String = "none", statisticsInterval: Duration? = nil
    ) {
        self.kafka = kafka
        self.linger = linger
        self.messageTimeout = messageTimeout
        self.compression = compression
        self.statisticsInterval = statisticsInterval
    }

    /// Idempotent, acknowledged by all in-sync replicas, so a retried send never duplicates or reorders.
    func librdkafkaProperties() -> [String: String] {
        kafka.librdkafkaProperties(
            with: [
                "enable.idempotence": "true",
                "acks": "all",
                "linger.ms": String(linger.milliseconds),
                "message.timeout.ms": String(messageTimeout.milliseconds),
                "compression.type": compression,
            ].merging(statisticsProperty(statisticsInterval)) { $1 })
    }
}

/// Settings of a ``KafkaConsumer``.
public struct ConsumerConfiguration: Sendable {
    /// Where a group with no committed offset starts reading.
    public enum StartOffset: String, Sendable {
        case earliest, latest
    }

    /// How a consumer comes by its partitions.
    public enum Partitions: Sendable, Equatable {
        /// Shared with the other members of ``groupID``: the group assigns them and keeps the offsets
        /// committed, so a member that leaves hands its partitions on where it stopped.
        case shared
        /// Every partition of ``topics``, each read from ``startOffset`` by this consumer alone. It joins
        /// no group, so it neither waits for the group's rebalance delay (3 s on Kafka) nor commits, and
        /// leaves no group's offsets behind on the cluster. For a reader that keeps whole topics in
        /// memory, such as the dashboard. Partitions added later are found within
        /// ``partitionLookInterval``.
        case every
    }

    /// The cluster and pass-through properties.
    public var kafka: KafkaConfiguration
    /// The consumer group; instances in one group share the partitions. With ``Partitions/every`` it is
    /// never joined, but librdkafka still needs one to assign partitions.
    public var groupID: String
    /// Shared through the group, or every partition to this consumer alone.
    public var partitions: Partitions
    /// With ``Partitions/every``: how often the topics' partition counts are read again, to find
    /// partitions added since (every second while a topic is missing).
    public var partitionLookInterval: Duration
    /// Topics to subscribe to.
    public var topics: [String]
    /// Where to start when the group has no committed offset for a partition.
    public var startOffset: StartOffset
    /// How long the group waits for a silent member before reassigning its partitions.
    public var sessionTimeout: Duration
    /// How often the member tells the group it is alive.
    public var heartbeatInterval: Duration
    /// The longest a member may go between polls before it is considered failed.
    public var maxPollInterval: Duration
    /// How often finished offsets are committed in the background (they are also committed on
    /// rebalance and on shutdown).
    public var commitInterval: Duration
    /// How long a fetch waits on the broker for data (`fetch.wait.max.ms`).
    public var fetchWaitMax: Duration
    /// The partition assignment strategy; cooperative-sticky moves only the partitions that must move.
    public var assignmentStrategy: String
    /// The most messages taken from librdkafka in one poll.
    public var pollBatchSize: Int
    /// How long a partition waits before fetching again when the local queue was over its limits
    /// (`fetch.queue.backoff.ms`). librdkafka's default of 1 s stalls a consumer that drains its
    /// queue in batches: measured 140 k against 580 k msgs/s with 10 ms (BENCHMARKS.md).
    public var fetchQueueBackoff: Duration
    /// How often librdkafka reports its statistics (consumer lag among them) to the consumer's
    /// statistics handler (nil: never).
    public var statisticsInterval: Duration?

    public init(
        kafka: KafkaConfiguration, groupID: String, topics: [String], startOffset: StartOffset = .earliest,
        sessionTimeout: Duration = .seconds(10), heartbeatInterval: Duration = .seconds(1),
        maxPollInterval: Duration = .seconds(300), commitInterval: Duration = .seconds(1),
        fetchWaitMax: Duration = .milliseconds(100), assignmentStrategy: String = "cooperative-sticky",
        pollBatchSize: Int = 1000, fetchQueueBackoff: Duration = .milliseconds(10),
        statisticsInterval: Duration? = nil, partitions: Partitions = .shared,
        partitionLookInterval: Duration = .seconds(30)
    ) {
        self.kafka = kafka
        self.groupID = groupID
        self.partitions = partitions
        self.partitionLookInterval = partitionLookInterval
        self.topics = topics
        self.startOffset = startOffset
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxPollInterval = maxPollInterval
        self.commitInterval = commitInterval
        self.fetchWaitMax = fetchWaitMax
        self.assignmentStrategy = assignmentStrategy
        self.pollBatchSize = pollBatchSize
        self.fetchQueueBackoff = fetchQueueBackoff
        self.statisticsInterval = statisticsInterval
    }

    /// At-least-once: librdkafka commits only offsets we stored, and we store an offset only once
    /// every message before it was marked processed (`enable.auto.offset.store=false`).
    func librdkafkaProperties() -> [String: String] {
        kafka.librdkafkaProperties(
            with: [
                "group.id": groupID,
                "auto.offset.reset": startOffset.rawValue,
                // A consumer of every partition commits nothing: it has no group to hand them on to.
                "enable.auto.commit": partitions == .shared ? "true" : "false",
                "enable.auto.offset.store": "false",
                "auto.commit.interval.ms": String(commitInterval.milliseconds),
                "session.timeout.ms": String(sessionTimeout.milliseconds),
                "heartbeat.interval.ms": String(heartbeatInterval.milliseconds),
                "max.poll.interval.ms": String(maxPollInterval.milliseconds),
                "fetch.wait.max.ms": String(fetchWaitMax.milliseconds),
                "partition.assignment.strategy": assignmentStrategy,
                "fetch.queue.backoff.ms": String(fetchQueueBackoff.milliseconds),
            ].merging(statisticsProperty(statisticsInterval)) { $1 })
    }
}

/// `statistics.interval.ms` for an interval, or nothing (librdkafka's default: off).
private func statisticsProperty(_ interval: Duration?) -> [String: String] {
    guard let interval else { return [:] }
    return ["statistics.interval.ms": String(max(1, interval.milliseconds))]
}

extension Duration {
    /// Whole milliseconds, as librdkafka's `*.ms` properties take them.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
