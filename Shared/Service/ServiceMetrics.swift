import JobstreamMessages
import Kafka
import Prometheus
import Synchronization

/// A service's metrics, in Prometheus's text format on the operations port (see ``OperationsServer``).
///
/// Every label set is bounded: topics and partitions are those the service consumes or produces,
/// statuses come from the job status enums, brokers from the cluster.
public final class ServiceMetrics: Sendable {
    /// Where the metrics live; ``OperationsServer`` renders it.
    public let registry: PrometheusCollectorRegistry
    private let consumed = Mutex<[String: Counter]>([:])
    private let processingTimes = Mutex<[String: DurationHistogram]>([:])
    private let batchTimes = Mutex<[String: DurationHistogram]>([:])
    private let lags = Mutex<[String: Gauge]>([:])
    private let producedTotals = Mutex<ProducedTotals>(ProducedTotals())
    private let refreshers = Mutex<[@Sendable () async -> Void]>([])
    private let jobGauges = Mutex<[String: Gauge]>([:])

    /// Processing times from 1 ms to 1 minute: a message is a few milliseconds, a chunk of a thousand
    /// rows or a batch of sync events up to seconds.
    static let processingBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// - Parameter service: the executable's name, in the `jobstream_build_info` gauge.
    public init(service: String = "", registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        if !service.isEmpty {
            registry.gauge(
                "jobstream_build_info",
                labels: [("service", service), ("librdkafka", LibrdkafkaVersion.linkedText)],
                help: "Always 1: which service this is and the librdkafka it runs on."
            ).set(to: 1.0)
        }
    }

    // MARK: Consuming

    /// Counts messages taken from `topic`.
    public func consumed(_ count: Int = 1, from topic: String) {
        cached(consumed, topic) {
            registry.counter(
                "jobstream_messages_consumed_total", labels: [("topic", topic)],
                help: "Messages taken from a topic by this instance.")
        }.increment(by: Int64(count))
    }

    /// Records how long handling one message of `topic` took.
    public func processed(messageFrom topic: String, in duration: Duration) {
        cached(processingTimes, topic) {
            processingHistogram(
                "jobstream_message_processing_seconds", topic: topic,
                help: "Time to handle one message, from decoding to marking it processed.")
        }.record(duration)
    }

    /// Records how long handling one batch of `topic` (a database transaction of many messages) took.
    public func processed(batchFrom topic: String, in duration: Duration) {
        cached(batchTimes, topic) {
            processingHistogram(
                "jobstream_batch_processing_seconds", topic: topic,
                help: "Time to handle one batch of messages in one transaction.")
        }.record(duration)
    }

    private func processingHistogram(_ name: String, topic: String, help: String) -> DurationHistogram {
        registry.durationHistogram(name, labels: [("topic", topic)], buckets: Self.processingBuckets, help: help)
    }

    /// Counts a message moved from `topic` to the dead-letter topic.
    public func deadLettered(from topic: String) {
        registry.counter(
            "jobstream_messages_dead_lettered_total", labels: [("topic", topic)],
            help: "Messages moved to the dead-letter topic, by the topic they came from."
        ).increment()
    }

    /// Counts a status event this instance announced.
    public func statusPublished(kind: JobKind, status: String) {
        registry.counter(
            "jobstream_job_status_events_total", labels: [("kind", kind.rawValue), ("status", status)],
            help: "Job status events announced by this instance, by kind of job and the status announced."
        ).increment()
    }

    // MARK: librdkafka's statistics

    /// Updates the consumer-lag gauges from a consumer's statistics: one per partition this member
    /// fetches; partitions it no longer fetches are removed.
    public func record(consumerStatistics statistics: KafkaStatistics) {
        let current = statistics.partitionLags
        lags.withLock { gauges in
            let keep = Set(current.map(\.id))
            for (id, gauge) in gauges where !keep.contains(id) {
                registry.unregisterGauge(gauge)
                gauges[id] = nil
            }
            for lag in current {
                let gauge =
                    gauges[lag.id]
                    ?? registry.gauge(
                        "jobstream_consumer_lag", labels: [("topic", lag.topic), ("partition", String(lag.partition))],
                        help:
                            "Messages on a partition after the group's committed offset (librdkafka's consumer_lag), for the partitions this instance consumes."
                    )
                gauges[lag.id] = gauge
                gauge.set(to: Double(lag.lag))
            }
        }
        if let group = statistics.consumerGroup {
            registry.gauge(
                "jobstream_consumer_assigned_partitions",
                help: "Partitions assigned to this instance in its consumer group."
            )
            .set(to: Double(group.assignmentSize))
        }
        recordBrokers(statistics, client: "consumer")
    }

    /// Updates the producer's queue gauge and broker round-trip times from its statistics.
    public func record(producerStatistics statistics: KafkaStatistics) {
        registry.gauge(
            "jobstream_producer_queue_messages",
            help: "Messages waiting in the producer's queue for delivery (librdkafka's msg_cnt)."
        )
        .set(to: Double(statistics.queuedMessages))
        recordBrokers(statistics, client: "producer")
    }

    private func recordBrokers(_ statistics: KafkaStatistics, client: String) {
        for broker in statistics.brokers.values where broker.nodeID >= 0 {
            guard let roundTrip = broker.roundTrip else { continue }
            registry.gauge(
                "jobstream_kafka_broker_rtt_p99_seconds",
                labels: [("client", client), ("broker", String(broker.nodeID))],
                help: "99th percentile of request round-trip times to a broker over the last statistics interval."
            )
            .set(to: Double(roundTrip.p99) / 1_000_000)
        }
    }

    /// Sets the jobs-by-status gauges to `counts` (kind → status → jobs); a status no longer held by
    /// any job drops to 0.
    public func setJobs(_ counts: [String: [String: Int]]) {
        jobGauges.withLock { gauges in
            for gauge in gauges.values {
                gauge.set(to: 0.0)
            }
            for (kind, statuses) in counts {
                for (status, count) in statuses {
                    let key = kind + "\u{0}" + status
                    let gauge =
                        gauges[key]
                        ?? registry.gauge(
                            "jobstream_jobs", labels: [("kind", kind), ("status", status)],
                            help: "Jobs in each status, as the status topics tell them (latest event of every job).")
                    gauges[key] = gauge
                    gauge.set(to: Double(count))
                }
            }
        }
    }

    // MARK: Producing

    /// Brings the produced and failed counters up to the producer's tallies (called before rendering).
    public func record(producer: KafkaProducer) {
        let queued = producer.queuedByTopic
        let failed = producer.failedByTopic
        producedTotals.withLock { totals in
            for (topic, count) in queued {
                registry.counter(
                    "jobstream_messages_produced_total", labels: [("topic", topic)],
                    help:
                        "Messages this instance handed to Kafka for a topic (failures are counted in jobstream_messages_produce_failed_total)."
                )
                .increment(by: Int64(count - totals.queued[topic, default: 0]))
            }
            for (topic, count) in failed {
                registry.counter(
                    "jobstream_messages_produce_failed_total", labels: [("topic", topic)],
                    help: "Messages whose delivery to a topic failed."
                )
                .increment(by: Int64(count - totals.failed[topic, default: 0]))
            }
            totals = ProducedTotals(queued: queued, failed: failed)
        }
    }

    // MARK: Rendering

    /// Registers work to run before every rendering, for values read rather than pushed.
    public func beforeRendering(_ refresh: @escaping @Sendable () async -> Void) {
        refreshers.withLock { $0.append(refresh) }
    }

    /// The metrics in Prometheus's text exposition format (version 0.0.4).
    public func render() async -> [UInt8] {
        for refresh in refreshers.withLock({ $0 }) {
            await refresh()
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func cached<Metric: Sendable>(
        _ cache: borrowing Mutex<[String: Metric]>, _ key: String,
        make: () -> Metric
    ) -> Metric {
        cache.withLock { metrics in
            if let metric = metrics[key] { return metric }
            let metric = make()
            metrics[key] = metric
            return metric
        }
    }
}

/// The producer's tallies as last brought into the counters.
private struct ProducedTotals {
    var queued: [String: Int] = [:]
    var failed: [String: Int] = [:]
}

extension KafkaStatistics.PartitionLag {
    /// The partition, without its lag.
    fileprivate var id: String { "\(topic)\u{0}\(partition)" }
}

extension PrometheusCollectorRegistry {
    /// The registry's makers by a metric's full name and help text, through the descriptor that
    /// swift-prometheus asks for (the name as one piece, no unit suffix added).
    func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    func counter(_ name: String, labels: [(String, String)], help: String) -> Counter {
        makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    func durationHistogram(_ name: String, labels: [(String, String)], buckets: [Duration], help: String) -> DurationHistogram {
        makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels,
            buckets: buckets)
    }
}
