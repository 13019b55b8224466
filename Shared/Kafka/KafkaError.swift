/// An error from the Kafka layer: what failed, why, and whether trying again may help.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// A configuration property was unknown or had an invalid value.
        case configuration
        /// The client could not be created.
        case clientCreation
        /// The broker refused or could not take a message.
        case produce
        /// A message was not acknowledged by the broker.
        case delivery
        /// Subscribing, polling or committing failed.
        case consume
        /// An admin request (topics) failed.
        case admin
        /// The linked librdkafka is too old.
        case unsupportedLibrary
        /// The client was already shut down.
        case closed
        /// An operation did not finish in time.
        case timedOut
    }

    /// What kind of failure this is.
    public let code: Code
    /// A sentence a person understands.
    public let reason: String
    /// librdkafka's error code (`rd_kafka_resp_err_t`), when the failure came from librdkafka.
    public let librdkafkaCode: Int32?
    /// Whether the same operation may succeed if tried again.
    public let isRetriable: Bool
    /// The topic of a message that was not delivered.
    public let topic: String?

    public init(_ code: Code, _ reason: String, librdkafkaCode: Int32? = nil, isRetriable: Bool = false, topic: String? = nil) {
        self.code = code
        self.reason = reason
        self.librdkafkaCode = librdkafkaCode
        self.isRetriable = isRetriable
        self.topic = topic
    }

    public var description: String {
        if let librdkafkaCode {
            return "Kafka \(code.rawValue) error: \(reason) (librdkafka code \(librdkafkaCode))"
        }
        return "Kafka \(code.rawValue) error: \(reason)"
    }
}
