import CRDKafka
import Logging

/// An owned librdkafka handle (`rd_kafka_t`) and the context its callbacks report to.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe; the calls that must not run
/// concurrently (consumer polls and close) are serialized by ``KafkaConsumer``'s poll queue.
final class RDKafkaClient: @unchecked Sendable {
    /// What kind of handle to create.
    enum Kind {
        case producer, consumer

        var rdType: rd_kafka_type_t { self == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER }
    }

    private let handle: OpaquePointer
    /// Kept alive as long as the handle: callbacks reach it unretained through the opaque pointer.
    private let context: RDKafkaClientContext?
    private let ownsHandle: Bool

    /// Creates a handle with `properties`, routing logs, errors, deliveries and rebalances to `context`.
    init(kind: Kind, properties: [String: String], context: RDKafkaClientContext) throws {
        try LibrdkafkaVersion.requireSupported()
        let configuration = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(configuration, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(configuration)
                throw KafkaError(.configuration, "\(key)=\(value): \(Self.text(of: errorText))")
            }
        }
        rd_kafka_conf_set_opaque(configuration, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(configuration, rdkafkaLogCallback)
        rd_kafka_conf_set_error_cb(configuration, rdkafkaErrorCallback)
        if context.deliveryHandler != nil {
            rd_kafka_conf_set_dr_msg_cb(configuration, rdkafkaDeliveryCallback)
        }
        if context.statisticsHandler != nil {
            rd_kafka_conf_set_stats_cb(configuration, rdkafkaStatisticsCallback)
        }
        if kind == .consumer {
            rd_kafka_conf_set_rebalance_cb(configuration, rdkafkaRebalanceCallback)
            rd_kafka_conf_set_offset_commit_cb(configuration, rdkafkaOffsetCommitCallback)
        }
        // On success rd_kafka_new owns the configuration; on failure it is still ours to destroy.
        guard let handle = rd_kafka_new(kind.rdType, configuration, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(configuration)
            throw KafkaError(.clientCreation, Self.text(of: errorText))
        }
        self.handle = handle
        self.context = context
        self.ownsHandle = true
    }

    private init(borrowing handle: OpaquePointer) {
        self.handle = handle
        self.context = nil
        self.ownsHandle = false
    }

    /// A non-owning wrapper for use inside a callback, where librdkafka lends the handle.
    static func unowned(handle: OpaquePointer) -> RDKafkaClient {
        RDKafkaClient(borrowing: handle)
    }

    deinit {
        if ownsHandle {
            rd_kafka_destroy(handle)
        }
    }

    /// Lends the raw handle to `body`. Do not let the pointer escape `body`.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        try body(handle)
    }

    /// Serves queued callbacks (deliveries, logs, errors) for up to `timeoutMilliseconds`.
    func poll(timeoutMilliseconds: Int32) {
        _ = rd_kafka_poll(handle, timeoutMilliseconds)
    }

    /// Messages still queued or in flight in this producer.
    var outQueueLength: Int32 { rd_kafka_outq_len(handle) }

    /// Waits until queued messages are delivered or `timeoutMilliseconds` passed. Blocks.
    func flush(timeoutMilliseconds: Int32) -> Bool {
        rd_kafka_flush(handle, timeoutMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Queues `message` for sending; `waiter` comes back in the delivery callback. Returns false,
    /// queuing nothing, when librdkafka's queue is full; throws when the message is refused.
    func produce(_ message: KafkaProducerMessage, waiter: UInt) throws(KafkaError) -> Bool {
        // Headers: on success librdkafka takes ownership; on failure we destroy them.
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    _ = value.withUnsafeBytes { rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let partition = message.partition ?? RD_KAFKA_PARTITION_UA
        let result = withOptionalBytes(message.value) { value in
            withOptionalBytes(message.key) { key in
                jobstream_produce(
                    handle, message.topic, partition, key?.baseAddress, key?.count ?? 0,
                    value?.baseAddress, value?.count ?? 0, headers, UnsafeMutableRawPointer(bitPattern: waiter))
            }
        }
        if result != RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
            rd_kafka_headers_destroy(headers)
        }
        switch result {
        case RD_KAFKA_RESP_ERR_NO_ERROR: return true
        case RD_KAFKA_RESP_ERR__QUEUE_FULL: return false
        default:
            throw KafkaError(
                .produce, "producing to \(message.topic) failed: \(Self.describe(result))", librdkafkaCode: result.rawValue,
                topic: message.topic)
        }
    }

    /// The NUL-terminated text librdkafka wrote into an error buffer.
    static func text(of buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text librdkafka gives for an error code.
    static func describe(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }

    /// The linked librdkafka's version number (`0xMMmmrrxx`) and text ("2.8.0").
    static var linkedVersion: (number: Int32, text: String) {
        (rd_kafka_version(), String(cString: rd_kafka_version_str()))
    }
}

private func withOptionalBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
