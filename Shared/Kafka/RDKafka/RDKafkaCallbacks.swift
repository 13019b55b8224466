import CRDKafka
import Logging

// librdkafka's callbacks. Each is a file-scope function with no captures that finds its Swift
// context through the handle's opaque pointer (see RDKafkaClientContext.of).

/// librdkafka's log lines, at their syslog level, into swift-log.
func rdkafkaLogCallback(
    _ handle: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?,
    _ message: UnsafePointer<CChar>?
) {
    guard let context = RDKafkaClientContext.of(handle) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let facilityName = facility.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level =
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    context.logger.log(level: swiftLevel, "\(text)", metadata: ["librdkafka.facility": "\(facilityName)"])
}

/// Client-level errors (broker down, authentication failed). librdkafka retries most of them itself.
func rdkafkaErrorCallback(
    _ handle: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let context = RDKafkaClientContext.of(handle) else { return }
    let text = reason.map { String(cString: $0) } ?? ""
    let fatal = code == RD_KAFKA_RESP_ERR__FATAL.rawValue
    context.logger.log(
        level: fatal ? .critical : .warning, "librdkafka error: \(text)",
        metadata: ["librdkafka.code": "\(code)"])
}

/// A produced message was acknowledged or failed; its per-message opaque says who is waiting.
func rdkafkaDeliveryCallback(
    _ handle: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let context = RDKafkaClientContext.of(handle), let handler = context.deliveryHandler else {
        return
    }
    let record = message.pointee
    let waiter = UInt(bitPattern: record._private)
    if waiter == 0, record.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        handler(0, nil)
        return
    }
    let topic = record.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    if record.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        handler(waiter, .success(DeliveryReport(topic: topic, partition: record.partition, offset: record.offset)))
    } else {
        let reason = String(cString: rd_kafka_err2str(record.err))
        handler(
            waiter,
            .failure(
                KafkaError(
                    .delivery, "message to \(topic) not delivered: \(reason)",
                    librdkafkaCode: record.err.rawValue, topic: topic)))
    }
}

/// Failed commits are worth a log line: the work will be redelivered after a restart.
func rdkafkaOffsetCommitCallback(
    _ handle: OpaquePointer?, _ error: rd_kafka_resp_err_t,
    _ offsets: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard error != RD_KAFKA_RESP_ERR_NO_ERROR, error != RD_KAFKA_RESP_ERR__NO_OFFSET,
        let context = RDKafkaClientContext.of(handle)
    else { return }
    context.logger.warning("offset commit failed: \(String(cString: rd_kafka_err2str(error)))")
}

/// librdkafka's periodic statistics (`statistics.interval.ms`). Returning 0 leaves the JSON buffer
/// to librdkafka, which frees it.
func rdkafkaStatisticsCallback(
    _ handle: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int,
    _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let json, let context = RDKafkaClientContext.of(handle), let handler = context.statisticsHandler else { return 0 }
    let text = UnsafeRawBufferPointer(start: json, count: length)
    handler(String(decoding: text, as: UTF8.self))
    return 0
}

/// The group's assignment changed. Tells the consumer first (so it can store and commit finished
/// offsets of revoked partitions), then applies the change, incrementally under the cooperative
/// protocol and wholesale under the eager one.
func rdkafkaRebalanceCallback(
    _ handle: OpaquePointer?, _ error: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let handle, let partitions, let context = RDKafkaClientContext.of(handle) else { return }
    let client = RDKafkaClient.unowned(handle: handle)
    let cooperative = client.rebalanceProtocol == "COOPERATIVE"
    let list = RDKafkaTopicPartitionList.topicPartitions(in: partitions)
    switch error {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        context.rebalanceHandler?(client, .assigned(list))
        let result =
            cooperative
            ? rd_kafka_error_code_and_destroy(rd_kafka_incremental_assign(handle, partitions))
            : rd_kafka_assign(handle, partitions)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            context.logger.error("assigning partitions failed: \(String(cString: rd_kafka_err2str(result)))")
        }
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        context.rebalanceHandler?(client, .revoking(list))
        if cooperative {
            _ = rd_kafka_error_code_and_destroy(rd_kafka_incremental_unassign(handle, partitions))
        } else {
            _ = rd_kafka_assign(handle, nil)
        }
    default:
        context.logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(error)))")
        _ = rd_kafka_assign(handle, nil)
    }
}

/// The error code of an `rd_kafka_error_t` (which may be NULL for success), destroying it.
private func rd_kafka_error_code_and_destroy(_ error: OpaquePointer?) -> rd_kafka_resp_err_t {
    guard let error else { return RD_KAFKA_RESP_ERR_NO_ERROR }
    defer { rd_kafka_error_destroy(error) }
    return rd_kafka_error_code(error)
}
