import JobstreamMessages
import Kafka

extension KafkaProducerMessage {
    /// `envelope` encoded for `topic`, keyed by its job id unless `key` says otherwise.
    public init<Payload: JobstreamMessage>(topic: String, envelope: Envelope<Payload>, key: String? = nil) throws {
        self.init(topic: topic, key: key ?? envelope.jobId, value: try MessageCodec.encode(envelope))
    }
}
