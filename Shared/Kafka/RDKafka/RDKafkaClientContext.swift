import CRDKafka
import Logging

/// What librdkafka's callbacks report to, found again through the handle's opaque pointer.
///
/// The owning ``RDKafkaClient`` keeps it alive for as long as the handle exists, so the
/// callbacks can take it unretained.
final class RDKafkaClientContext: Sendable {
    /// A message's delivery outcome: the per-message opaque and the result. The result is nil for an
    /// acknowledged message nobody waits for (opaque 0): building a report for each of those would cost
    /// a String per message on the hot path.
    typealias DeliveryHandler = @Sendable (_ opaque: UInt, _ result: Result<DeliveryReport, KafkaError>?) -> Void
    /// Called on the polling thread before librdkafka's assignment changes; see ``RDKafkaRebalance``.
    typealias RebalanceHandler = @Sendable (_ client: RDKafkaClient, _ event: RebalanceEvent) -> Void
    /// librdkafka's statistics JSON, every `statistics.interval.ms`, on the thread that polls the handle.
    typealias StatisticsHandler = @Sendable (_ json: String) -> Void

    let logger: Logger
    let deliveryHandler: DeliveryHandler?
    let rebalanceHandler: RebalanceHandler?
    let statisticsHandler: StatisticsHandler?

    init(
        logger: Logger, deliveryHandler: DeliveryHandler? = nil, rebalanceHandler: RebalanceHandler? = nil,
        statisticsHandler: StatisticsHandler? = nil
    ) {
        self.logger = logger
        self.deliveryHandler = deliveryHandler
        self.rebalanceHandler = rebalanceHandler
        self.statisticsHandler = statisticsHandler
    }

    /// The context registered with a handle. Do not call once the handle is destroyed.
    static func of(_ handle: OpaquePointer?) -> RDKafkaClientContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// A change of a consumer's partition assignment.
enum RebalanceEvent: Sendable {
    case assigned([TopicPartition])
    case revoking([TopicPartition])
}
