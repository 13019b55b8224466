import CRDKafka

extension RDKafkaClient {
    /// Subscribes the group member to `topics`.
    func subscribe(to topics: [String]) throws {
        let entries = topics.map { (TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA), Int64(0)) }
        let result = withHandle { handle in
            RDKafkaTopicPartitionList.withList(entries) { rd_kafka_subscribe(handle, $0) }
        }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                .consume, "subscribing to \(topics.joined(separator: ", ")) failed: \(Self.describe(result))",
                librdkafkaCode: result.rawValue)
        }
        routeMainQueueToConsumer()
    }

    /// Routes the main queue (logs, errors, rebalances) to the consumer queue polled by the consumer.
    func routeMainQueueToConsumer() {
        _ = withHandle { rd_kafka_poll_set_consumer($0) }
    }

    /// Adds `partitions` to this consumer's assignment outside any group rebalance, each read from its
    /// first offset (`fromStart`) or from its end.
    func assignIncrementally(_ partitions: [TopicPartition], fromStart: Bool) throws(KafkaError) {
        let offset = Int64(fromStart ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END)
        let result = withHandle { handle in
            RDKafkaTopicPartitionList.withList(partitions.map { ($0, offset) }) { list in
                guard let error = rd_kafka_incremental_assign(handle, list) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                defer { rd_kafka_error_destroy(error) }
                return rd_kafka_error_code(error)
            }
        }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.consume, "assigning partitions failed: \(Self.describe(result))", librdkafkaCode: result.rawValue)
        }
    }

    /// How many partitions `topic` has, from the cluster's metadata; nil when the cluster has no such
    /// topic. Asks for this topic alone, so a cluster of many topics costs no more. Blocks.
    func partitionCount(of topic: String, timeoutMilliseconds: Int32) throws(KafkaError) -> Int? {
        let outcome: (rd_kafka_resp_err_t, Int?) = withHandle { handle in
            guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else { return (rd_kafka_last_error(), nil) }
            defer { rd_kafka_topic_destroy(topicHandle) }
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            let result = rd_kafka_metadata(handle, 0, topicHandle, &metadata, timeoutMilliseconds)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { return (result, nil) }
            defer { rd_kafka_metadata_destroy(metadata) }
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let entry = metadata.pointee.topics[index]
                guard String(cString: entry.topic) == topic else { continue }
                return (RD_KAFKA_RESP_ERR_NO_ERROR, entry.err == RD_KAFKA_RESP_ERR_NO_ERROR ? Int(entry.partition_cnt) : nil)
            }
            return (RD_KAFKA_RESP_ERR_NO_ERROR, nil)
        }
        guard outcome.0 == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                .consume, "reading the partitions of \(topic) failed: \(Self.describe(outcome.0))",
                librdkafkaCode: outcome.0.rawValue, isRetriable: true)
        }
        return outcome.1
    }

    /// Takes up to `maximum` messages from the consumer queue in one call, waiting up to the timeout
    /// for the first, and hands each (copied into Swift, small values as slices of a buffer shared
    /// with their neighbours) or error event to `body`. Rebalance and other
    /// callbacks are served inside. Blocks; call from the consumer's poll queue only.
    ///
    /// One call per batch rather than one `rd_kafka_consumer_poll` per message: polling message by
    /// message measured about 5 times slower here (22 k against 124 k msgs/s on the same broker).
    func consumeBatch(
        timeoutMilliseconds: Int32, maximum: Int, topicNames: inout RDKafkaTopicNameCache,
        _ body: (consuming ConsumedRecord) -> Void
    ) {
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: maximum)
        defer { messages.deallocate() }
        let queue = withHandle { rd_kafka_queue_get_consumer($0) }
        defer { if let queue { rd_kafka_queue_destroy(queue) } }
        // rd_kafka_consume_batch_queue waits until the batch is full or the timeout passed, so wait for
        // one message only, then take without waiting whatever else is already queued.
        var count = rd_kafka_consume_batch_queue(queue, timeoutMilliseconds, messages, 1)
        guard count > 0 else { return }
        if maximum > 1 {
            count += max(0, rd_kafka_consume_batch_queue(queue, 0, messages + 1, maximum - 1))
        }
        var start = 0
        while start < count {
            // The small values of a run of messages are copied into one buffer they share as slices:
            // one allocation per run rather than one per message.
            let run = PackedValues.run(from: start, count: count) { Self.packedLength(of: messages[$0]) }
            var packed: [UInt8] = []
            packed.reserveCapacity(run.bytes)
            for index in run.messages {
                let length = Self.packedLength(of: messages[index])
                guard length > 0, let payload = messages[index]?.pointee.payload else { continue }
                packed.append(contentsOf: UnsafeRawBufferPointer(start: payload, count: length))
            }
            var cursor = 0
            for index in run.messages {
                guard let message = messages[index] else { continue }
                body(Self.copy(message, packed: packed, cursor: &cursor, topicNames: &topicNames))
                rd_kafka_message_destroy(message)
            }
            start = run.messages.upperBound
        }
    }

    /// How many bytes of `message`'s value go into a shared buffer: none for an error event, a
    /// tombstone or a large value.
    private static func packedLength(of message: UnsafeMutablePointer<rd_kafka_message_t>?) -> Int {
        guard let record = message?.pointee, record.err == RD_KAFKA_RESP_ERR_NO_ERROR, record.payload != nil,
            record.len <= PackedValues.valueBytes
        else { return 0 }
        return record.len
    }

    /// A message or error event copied out of librdkafka; a small value is taken from `packed` at
    /// `cursor`, which moves past it. Does not keep the pointer.
    private static func copy(
        _ message: UnsafeMutablePointer<rd_kafka_message_t>, packed: [UInt8], cursor: inout Int,
        topicNames: inout RDKafkaTopicNameCache
    ) -> ConsumedRecord {
        let record = message.pointee
        let topic = topicNames.name(of: record.rkt)
        guard record.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text =
                record.payload.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
                ?? Self.describe(record.err)
            let issue: ConsumerIssue =
                switch record.err {
                case RD_KAFKA_RESP_ERR__PARTITION_EOF: .endOfPartition
                case RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL: .inconsistentGroupProtocol(text)
                default: .other(code: record.err.rawValue, reason: text)
                }
            return .error(topic: topic, partition: record.partition, issue)
        }
        let value: ArraySlice<UInt8>
        let packedBytes = packedLength(of: message)
        if packedBytes > 0 {
            value = packed[cursor..<cursor + packedBytes]
            cursor += packedBytes
        } else {
            value = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len))[...] } ?? []
        }
        let key = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        return .message(
            KafkaConsumerMessage(
                topic: topic, partition: record.partition, offset: record.offset, key: key, value: value,
                headers: headers(of: message),
                timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
                isTombstone: record.payload == nil))
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var headers: OpaquePointer? = nil
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return [] }
        var result: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>? = nil
        var value: UnsafeRawPointer? = nil
        var size = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return result
    }

    /// Stores `offsets` (the next offset to read, per partition) for librdkafka's next commit.
    func storeOffsets(_ offsets: [(TopicPartition, Int64)]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let result = withHandle { handle in RDKafkaTopicPartitionList.withList(offsets) { rd_kafka_offsets_store(handle, $0) } }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.consume, "storing offsets failed: \(Self.describe(result))", librdkafkaCode: result.rawValue)
        }
    }

    /// Commits the stored offsets of the current assignment and waits for the broker's answer. Blocks.
    /// Nothing stored to commit is not a failure.
    func commitStoredOffsets() throws(KafkaError) {
        let result = withHandle { rd_kafka_commit($0, nil, 0) }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR || result == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(
                .consume, "commit failed: \(Self.describe(result))", librdkafkaCode: result.rawValue, isRetriable: true)
        }
    }

    /// The committed offsets of `partitions` in the group (-1001 where none). Blocks.
    func committedOffsets(for partitions: [TopicPartition], timeoutMilliseconds: Int32) throws -> [TopicPartition: Int64] {
        try withHandle { handle in
            try RDKafkaTopicPartitionList.withList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }) { list in
                let result = rd_kafka_committed(handle, list, timeoutMilliseconds)
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(
                        .consume, "reading committed offsets failed: \(Self.describe(result))",
                        librdkafkaCode: result.rawValue, isRetriable: true)
                }
                return Dictionary(RDKafkaTopicPartitionList.entries(in: list), uniquingKeysWith: { first, _ in first })
            }
        }
    }

    /// The partitions currently assigned to this member.
    func assignment() -> [TopicPartition] {
        withHandle { handle in
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? = nil
            guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            return RDKafkaTopicPartitionList.topicPartitions(in: list)
        }
    }

    /// Stops (or restarts) fetching from `partitions`, keeping their place.
    func setPaused(_ paused: Bool, partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        withHandle { handle in
            RDKafkaTopicPartitionList.withList(partitions.map { ($0, Int64(0)) }) { list in
                _ = paused ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
            }
        }
    }

    /// "COOPERATIVE", "EAGER", or "NONE" before the first assignment (or outside a group).
    var rebalanceProtocol: String {
        withHandle { handle in rd_kafka_rebalance_protocol(handle).map { String(cString: $0) } ?? "NONE" }
    }

    /// Leaves the group: revokes the assignment (committing through the rebalance callback) and
    /// stops fetching. Blocks; call from the consumer's poll queue only.
    func closeConsumer() throws(KafkaError) {
        let result = withHandle { rd_kafka_consumer_close($0) }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.consume, "leaving the group failed: \(Self.describe(result))", librdkafkaCode: result.rawValue)
        }
    }
}

/// The name of the last topic handle seen, so consecutive messages of one topic share one String.
struct RDKafkaTopicNameCache {
    private var handle: OpaquePointer?
    private var name = ""

    mutating func name(of topic: OpaquePointer?) -> String {
        guard let topic else { return "" }
        if topic != handle {
            handle = topic
            name = String(cString: rd_kafka_topic_name(topic))
        }
        return name
    }
}

/// A message or an error event taken from the consumer queue.
enum ConsumedRecord {
    case message(KafkaConsumerMessage)
    case error(topic: String, partition: Int32, ConsumerIssue)
}

/// An error event a poll returned in place of a message.
enum ConsumerIssue {
    /// The end of a partition was reached (informational).
    case endOfPartition
    /// The group's members disagree on the assignment strategy.
    case inconsistentGroupProtocol(String)
    case other(code: Int32, reason: String)
}
