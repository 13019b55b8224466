import ArgumentParser
import Foundation
import JobstreamMessages
import Kafka
import Logging

/// The command-line options every jobstream executable takes to reach Kafka.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "Kafka bootstrap servers, host:port[,host:port…].",
            discussion: "Defaults to $JOBSTREAM_BROKERS or $KAFKA_BROKERS, else the embedded broker.",
            valueName: "servers"))
    public var brokers: String = Settings.value("brokers", default: KafkaConfiguration.embeddedBrokerAddress)

    @Option(
        name: .customLong("group"),
        help: ArgumentHelp("Consumer group; instances in one group share the work.", valueName: "group-id"))
    var groupOption: String?

    @Option(name: .customLong("client-id"), help: ArgumentHelp("Client id shown in broker logs and quotas.", valueName: "id"))
    var clientIDOption: String?

    /// The consumer group: the flag, else the environment or the configuration file, else none.
    public var group: String? { groupOption ?? Settings.value("group") }

    /// The client id: the flag, else the environment or the configuration file, else none.
    public var clientID: String? { clientIDOption ?? Settings.value("client-id") }

    @Option(
        name: .customShort("X"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "A librdkafka property, e.g. -X security.protocol=SASL_SSL. Repeatable; overrides other options.",
            valueName: "key=value"))
    public var properties: [String] = []

    @Option(
        name: .customLong("max-message-bytes"),
        help: ArgumentHelp("The largest message read from a topic; larger ones are dead-lettered unread.", valueName: "bytes"))
    public var maxMessageBytes: Int = Settings.value("max-message-bytes", default: InputLimits.defaultMessageBytes)

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    public var logLevel: Logger.Level = Settings.value("log-level", default: .info)

    public init() {}

    public func validate() throws {
        guard !brokers.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--brokers is empty; give host:port, or set KAFKA_BROKERS")
        }
        guard (1024...100_000_000).contains(maxMessageBytes) else {
            throw ValidationError("--max-message-bytes must be between 1024 and 100000000")
        }
        _ = try parsedProperties()
        _ = (group, clientID)  // read now, so a bad value in the environment or the file is reported below
        try Settings.validate()
    }

    /// The librdkafka properties: from the configuration file and the environment (see ``Settings``),
    /// then the `-X key=value` pairs; a malformed entry is named in the error.
    public func parsedProperties() throws -> [String: String] {
        var result = Settings.kafkaProperties
        for entry in properties {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("-X \"\(entry)\": expected key=value, e.g. -X security.protocol=SSL")
            }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    /// The Kafka settings these options describe.
    public func kafkaConfiguration(defaultClientID: String) throws -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, clientID: clientID ?? defaultClientID, properties: try parsedProperties())
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
