/// A topic and one of its partitions.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A Kafka record header. Values are bytes; most of ours are UTF-8 text.
public struct KafkaHeader: Hashable, Sendable {
    public let key: String
    public let value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header with a UTF-8 text value.
    public init(key: String, text: String) {
        self.init(key: key, value: Array(text.utf8))
    }

    /// The value as UTF-8 text, if it is valid UTF-8.
    public var text: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// A message to produce.
public struct KafkaProducerMessage: Sendable {
    public var topic: String
    /// The partition; nil lets the partitioner choose from the key (murmur2, as the Java client does).
    public var partition: Int32?
    public var key: [UInt8]?
    /// The payload; nil sends a tombstone, which deletes the key from a compacted topic.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// A message keyed by a UTF-8 string, such as a job id.
    public init(topic: String, key: String, value: [UInt8]?, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers)
    }

    /// A tombstone for `key`: a compacted topic forgets the key's earlier messages.
    public static func tombstone(topic: String, key: String) -> KafkaProducerMessage {
        KafkaProducerMessage(topic: topic, key: key, value: nil)
    }
}

/// Where an acknowledged message was written.
public struct DeliveryReport: Hashable, Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}

/// A consumed message, copied out of librdkafka.
///
/// Its ``value`` is a slice: a small value shares its storage with the other small values fetched
/// with it (up to a megabyte), so indices start where the value starts, not at zero.
public struct KafkaConsumerMessage: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    /// The payload; empty for a tombstone (see ``isTombstone``). Index it from `value.startIndex`.
    public let value: ArraySlice<UInt8>
    public let headers: [KafkaHeader]
    /// Whether the message has no value at all: a deletion marker on a compacted topic.
    public let isTombstone: Bool
    /// Milliseconds since the epoch, as the producer or broker stamped it; nil when absent.
    public let timestampMilliseconds: Int64?
    /// The assignment of its partition that delivered it; set by the consumer that handed it out.
    var progress: PartitionProgress?

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The key as UTF-8 text, if any.
    public var keyText: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }

    /// The first header with this key.
    public func header(_ key: String) -> KafkaHeader? { headers.first { $0.key == key } }

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: ArraySlice<UInt8>, headers: [KafkaHeader],
        timestampMilliseconds: Int64?, isTombstone: Bool = false
    ) {
        self.isTombstone = isTombstone
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }
}
