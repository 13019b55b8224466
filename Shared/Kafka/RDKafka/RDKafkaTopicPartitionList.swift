import CRDKafka

/// Conversions between `rd_kafka_topic_partition_list_t` and Swift values.
enum RDKafkaTopicPartitionList {
    /// The topic-partitions in a list owned by librdkafka. Does not keep the pointer.
    static func topicPartitions(in list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        entries(in: list).map(\.0)
    }

    /// The topic-partitions and offsets in a list owned by librdkafka. Does not keep the pointer.
    static func entries(in list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, Int64)] {
        let count = Int(list.pointee.cnt)
        guard count > 0, let elements = list.pointee.elems else { return [] }
        return (0..<count).map { index in
            let element = elements[index]
            return (TopicPartition(topic: String(cString: element.topic), partition: element.partition), element.offset)
        }
    }

    /// Lends a new list holding `entries` (offset per partition) to `body`, destroying it afterwards.
    /// Do not let the pointer escape `body`.
    static func withList<T>(
        _ entries: [(TopicPartition, Int64)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T
    ) rethrows -> T {
        let list = rd_kafka_topic_partition_list_new(Int32(entries.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topicPartition, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)!
            element.pointee.offset = offset
        }
        return try body(list)
    }
}
