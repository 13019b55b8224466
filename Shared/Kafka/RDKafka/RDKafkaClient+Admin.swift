import CRDKafka

extension RDKafkaClient {
    /// Creates `topics`; returns each topic's outcome (an already existing topic is reported as such).
    /// Blocks until the broker answers or `timeoutMilliseconds` pass.
    func createTopics(_ topics: [TopicSpec], timeoutMilliseconds: Int32) throws -> [String: TopicCreationOutcome] {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { rd_kafka_NewTopic_destroy_array(&newTopics, newTopics.count) }
        for topic in topics {
            guard
                let newTopic = rd_kafka_NewTopic_new(
                    topic.name, topic.partitions, topic.replicationFactor,
                    &errorText, errorText.count)
            else {
                throw KafkaError(.admin, "topic \(topic.name): \(Self.text(of: errorText))")
            }
            newTopics.append(newTopic)
            for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let result = rd_kafka_NewTopic_set_config(newTopic, name, value)
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(.admin, "topic \(topic.name): config \(name)=\(value): \(Self.describe(result))")
                }
            }
        }
        return try withAdminRequest(RD_KAFKA_ADMIN_OP_CREATETOPICS, timeoutMilliseconds: timeoutMilliseconds) {
            handle, options, queue in
            rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
        } readResult: { event in
            var count = 0
            guard let result = rd_kafka_event_CreateTopics_result(event),
                let results = rd_kafka_CreateTopics_result_topics(result, &count)
            else { return [:] }
            var outcomes: [String: TopicCreationOutcome] = [:]
            for index in 0..<count {
                let topicResult = results[index]
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                let error = rd_kafka_topic_result_error(topicResult)
                switch error {
                case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes[name] = .created
                case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcomes[name] = .alreadyExisted
                default:
                    let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? Self.describe(error)
                    outcomes[name] = .failed(text)
                }
            }
            return outcomes
        }
    }

    /// The configuration entries of `topic` as the broker reports them. Blocks.
    func describeTopicConfigs(_ topic: String, timeoutMilliseconds: Int32) throws -> [String: String] {
        var resources: [OpaquePointer?] = [rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)]
        defer { rd_kafka_ConfigResource_destroy_array(&resources, resources.count) }
        return try withAdminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeoutMilliseconds: timeoutMilliseconds) {
            handle, options, queue in
            rd_kafka_DescribeConfigs(handle, &resources, resources.count, options, queue)
        } readResult: { event in
            var count = 0
            guard let result = rd_kafka_event_DescribeConfigs_result(event),
                let described = rd_kafka_DescribeConfigs_result_resources(result, &count), count > 0
            else { return [:] }
            let resource = described[0]
            let error = rd_kafka_ConfigResource_error(resource)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(.admin, "describing \(topic) failed: \(Self.describe(error))", librdkafkaCode: error.rawValue)
            }
            var entryCount = 0
            guard let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) else { return [:] }
            var configs: [String: String] = [:]
            for index in 0..<entryCount {
                let entry = entries[index]
                configs[String(cString: rd_kafka_ConfigEntry_name(entry))] = rd_kafka_ConfigEntry_value(entry).map {
                    String(cString: $0)
                }
            }
            return configs
        }
    }

    /// Every topic in the cluster with its partition count. Blocks.
    func topicPartitionCounts(timeoutMilliseconds: Int32) throws -> [String: Int] {
        try withHandle { handle in
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            let result = rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMilliseconds)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError(
                    .admin, "reading cluster metadata failed: \(Self.describe(result))",
                    librdkafkaCode: result.rawValue, isRetriable: true)
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var counts: [String: Int] = [:]
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[index]
                guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                counts[String(cString: topic.topic)] = Int(topic.partition_cnt)
            }
            return counts
        }
    }

    /// Runs one admin request on a private queue and reads its result event.
    private func withAdminRequest<T>(
        _ operation: rd_kafka_admin_op_t, timeoutMilliseconds: Int32,
        start: (OpaquePointer, OpaquePointer, OpaquePointer) -> Void,
        readResult: (OpaquePointer) throws -> T
    ) throws -> T {
        try withHandle { handle in
            let queue = rd_kafka_queue_new(handle)!
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(handle, operation)!
            defer { rd_kafka_AdminOptions_destroy(options) }
            var errorText = [CChar](repeating: 0, count: 512)
            _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
            start(handle, options, queue)
            guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1000) else {
                throw KafkaError(.timedOut, "the broker did not answer within \(timeoutMilliseconds) ms", isRetriable: true)
            }
            defer { rd_kafka_event_destroy(event) }
            let error = rd_kafka_event_error(event)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? Self.describe(error)
                throw KafkaError(
                    .admin, text, librdkafkaCode: error.rawValue,
                    isRetriable: error == RD_KAFKA_RESP_ERR__TIMED_OUT || error == RD_KAFKA_RESP_ERR__TRANSPORT)
            }
            return try readResult(event)
        }
    }
}
