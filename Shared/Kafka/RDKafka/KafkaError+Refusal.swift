import CRDKafka

extension KafkaError {
    /// librdkafka's codes for a message refused for what it is (too large, malformed, not allowed on
    /// its topic): sending the same message again fails again.
    private static let refusalCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG,
        RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__INVALID_ARG,
    ].map(\.rawValue).reduce(into: []) { $0.insert($1) }

    /// Whether the broker or librdkafka refused the message itself, rather than failing to reach a
    /// broker: a refused message can never be delivered as it is; anything else may heal.
    public var refusesMessage: Bool {
        guard let librdkafkaCode else { return false }
        return Self.refusalCodes.contains(librdkafkaCode)
    }
}
