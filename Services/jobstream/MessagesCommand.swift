import ArgumentParser
import Foundation
import JobstreamMessages
import JobstreamService
import Kafka

struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "The message formats on jobstream's topics.",
        subcommands: [Examples.self, Decode.self, Publish.self, Tail.self])

    struct Examples: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an example envelope of every message type, one TYPE.json file each.")

        @Option(name: .shortAndLong, help: ArgumentHelp("The folder to write to (created if missing).", valueName: "dir"))
        var out: String

        func run() async throws {
            let folder = URL(fileURLWithPath: out, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (type, bytes) in try MessageExamples.all().sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let file = folder.appendingPathComponent("\(type.rawValue).json")
                try Data(bytes).write(to: file)
                print(file.path)
            }
        }
    }

    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a file holds one valid jobstream message, and say what it is.")

        @Argument(help: "A file holding one JSON envelope.")
        var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("\(file): cannot read the file")
            }
            do {
                let envelope = try MessageCodec.decode(Array(data))
                print("\(envelope.type.rawValue) \(envelope.version) job \(envelope.jobId) at \(Timestamp.format(envelope.time))")
            } catch {
                throw ValidationError("\(file): \(error)")
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish the message in a file: checked and re-encoded by jobstream's codec, keyed by its job id.")

        @OptionGroup var options: ServiceOptions

        @Option(help: "The topic to publish to.")
        var topic: String

        @Argument(help: "A file holding one JSON envelope.")
        var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("\(file): cannot read the file")
            }
            let envelope: AnyEnvelope
            do {
                envelope = try MessageCodec.decode(Array(data))
            } catch {
                throw ValidationError("\(file): \(error)")
            }
            let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: options.logLevel)
            let producer = try KafkaProducer(
                configuration: ProducerConfiguration(kafka: options.kafkaConfiguration(defaultClientID: "jobstream-cli")),
                logger: logger)
            let report = try await producer.send(
                KafkaProducerMessage(topic: topic, key: envelope.jobId, value: try envelope.encoded()))
            await producer.shutdown()
            print(
                "published \(envelope.type.rawValue) for \(envelope.jobId) to \(report.topic)[\(report.partition)]@\(report.offset)"
            )
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the messages of a topic as jobstream decodes them, one JSON line each.",
            discussion: """
                Each line: {"topic", "partition", "offset", "key", "headers", "message"} with the decoded message re-encoded, \
                or "error" with the reason when the message cannot be decoded. Reads as a consumer group \
                (a new one each run unless --group is given) from the earliest offset.
                """)

        @OptionGroup var options: ServiceOptions

        @Option(help: "The topic to read.")
        var topic: String

        @Option(help: "Stop after this many messages.")
        var count: Int?

        @Option(help: "Stop after this many seconds.")
        var seconds: Int?

        func validate() throws {
            if let count, count < 1 { throw ValidationError("--count must be at least 1") }
            if let seconds, seconds < 1 { throw ValidationError("--seconds must be at least 1") }
        }

        func run() async throws {
            let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: options.logLevel)
            let group = options.group ?? "jobstream.tail.\(UUID().uuidString.prefix(8))"
            let consumer = try KafkaConsumer(
                configuration: ConsumerConfiguration(
                    kafka: options.kafkaConfiguration(defaultClientID: "jobstream-cli"),
                    groupID: group, topics: [topic], sessionTimeout: .seconds(6),
                    maxPollInterval: .seconds(10), fetchWaitMax: .milliseconds(20)),
                logger: logger)
            let limit = count
            let reading = Task {
                var printed = 0
                for await message in consumer.messages {
                    print(Self.line(for: message))
                    consumer.markProcessed(message)
                    printed += 1
                    if let limit, printed >= limit { break }
                }
            }
            if let seconds {
                Task {
                    try await Task.sleep(for: .seconds(seconds))
                    consumer.stopConsuming()
                }
            }
            await reading.value
            await consumer.close()
        }

        static func line(for message: KafkaConsumerMessage) -> String {
            var fields: [String: Any] = ["topic": message.topic, "partition": message.partition, "offset": message.offset]
            if let key = message.keyText { fields["key"] = key }
            if !message.headers.isEmpty {
                fields["headers"] = Dictionary(message.headers.map { ($0.key, $0.text ?? "") }, uniquingKeysWith: { $1 })
            }
            if message.isTombstone {
                // A deletion marker on a compacted topic: the key's earlier messages go away.
                fields["tombstone"] = true
            } else {
                do {
                    let encoded = try MessageCodec.decode(message.value).encoded()
                    fields["message"] = try JSONSerialization.jsonObject(with: Data(encoded))
                } catch {
                    fields["error"] = "\(error)"
                }
            }
            let data =
                (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
