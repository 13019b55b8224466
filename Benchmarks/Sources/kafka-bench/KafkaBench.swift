import ArgumentParser
import BenchSupport
import Foundation
import JobstreamService
import Kafka
import Logging

/// Measures the Swift Kafka layer the way librdkafka's `rdkafka_performance` measures librdkafka,
/// so `make bench-kafka` can put the two side by side. Prints one `key: value` line per figure.
@main
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-bench",
        abstract: "Throughput and latency of jobstream's Swift Kafka layer (used by make bench-kafka).",
        subcommands: [CreateTopic.self, Produce.self, Consume.self, Latency.self])
}

struct BenchOptions: ParsableArguments {
    @OptionGroup var connection: ServiceOptions

    @Option(help: "The topic.")
    var topic: String

    func logger() -> Logger {
        LoggingSetup.bootstrap(label: "kafka-bench", level: connection.logLevel)
    }

    func kafka() throws -> KafkaConfiguration {
        try connection.kafkaConfiguration(defaultClientID: "kafka-bench")
    }
}

extension KafkaBench {
    struct CreateTopic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-topic", abstract: "Create the benchmark topic.")

        @OptionGroup var options: BenchOptions
        @Option var partitions: Int32 = 6

        func run() async throws {
            let admin = try KafkaAdmin(configuration: options.kafka(), logger: options.logger())
            let outcome = try await admin.createTopics([TopicSpec(name: options.topic, partitions: partitions)])
            print("topic \(options.topic): \(outcome[options.topic].map { "\($0)" } ?? "no answer")")
        }
    }

    /// Queues `count` messages of `size` bytes with ``KafkaProducer/enqueue(_:)`` and flushes; the
    /// time runs from the first send until the last acknowledgement, as rdkafka_performance counts it.
    struct Produce: AsyncParsableCommand {
        @OptionGroup var options: BenchOptions
        @Option var count: Int
        @Option var size: Int

        func run() async throws {
            let producer = try KafkaProducer(
                configuration: ProducerConfiguration(kafka: options.kafka()), logger: options.logger())
            let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            let message = KafkaProducerMessage(topic: options.topic, value: payload)
            let clock = ContinuousClock()
            let start = clock.now
            try await Self.enqueue(message, count: count, with: producer)
            guard await producer.flush(timeout: .seconds(300)) else { throw ValidationError("flush timed out") }
            let elapsed = clock.now - start
            await producer.shutdown()
            guard producer.deliveredCount == count else {
                throw ValidationError("delivered \(producer.deliveredCount) of \(count) (failed \(producer.failedCount))")
            }
            print("produced: \(count)")
            print("seconds: \(elapsed.seconds)")
            print("msgs/s: \(Int(Double(count) / elapsed.seconds))")
        }

        /// The send loop, nonisolated so it runs on the global executor rather than the command's actor.
        nonisolated static func enqueue(_ message: KafkaProducerMessage, count: Int, with producer: KafkaProducer) async throws {
            for _ in 0..<count {
                try await producer.enqueue(message)
            }
        }
    }

    /// Consumes `count` messages as a group member, marking each processed (so the commit path is
    /// measured too); the time runs from the first message to the last, as rdkafka_performance counts it.
    struct Consume: AsyncParsableCommand {
        @OptionGroup var options: BenchOptions
        @Option var count: Int
        @Option(help: "Messages taken from librdkafka per poll.") var pollBatchSize = 1000

        func run() async throws {
            let group = options.connection.group ?? "kafka-bench-\(UUID().uuidString.prefix(6))"
            let configuration = ConsumerConfiguration(
                kafka: try options.kafka(), groupID: group, topics: [options.topic],
                sessionTimeout: .seconds(6), maxPollInterval: .seconds(10),
                fetchWaitMax: .milliseconds(500), pollBatchSize: pollBatchSize)
            let consumer = try KafkaConsumer(configuration: configuration, logger: options.logger())
            // A local copy: reading an @Option in the loop costs a property-wrapper lookup per message.
            let count = self.count
            let clock = ContinuousClock()
            var start: ContinuousClock.Instant?
            var received = 0
            var bytes = 0
            for await message in consumer.messages {
                if start == nil { start = clock.now }
                received += 1
                bytes += message.value.count
                consumer.markProcessed(message)
                if received == count { break }
            }
            let elapsed = clock.now - (start ?? clock.now)
            await consumer.close()
            print("consumed: \(received)")
            print("seconds: \(elapsed.seconds)")
            print("msgs/s: \(Int(Double(received) / elapsed.seconds))")
        }
    }

    /// Sends one message at a time and waits until an already-assigned consumer receives it.
    struct Latency: AsyncParsableCommand {
        @OptionGroup var options: BenchOptions
        @Option var count: Int = 1000

        func run() async throws {
            let kafka = try options.kafka()
            let logger = options.logger()
            let producer = try KafkaProducer(configuration: ProducerConfiguration(kafka: kafka, linger: .zero), logger: logger)
            let consumer = try KafkaConsumer(
                configuration: ConsumerConfiguration(
                    kafka: kafka, groupID: "latency-\(UUID().uuidString.prefix(6))",
                    topics: [options.topic], startOffset: .latest, sessionTimeout: .seconds(6),
                    maxPollInterval: .seconds(10), fetchWaitMax: .milliseconds(10)),
                logger: logger)
            var messages = consumer.messages.makeAsyncIterator()
            // Warm up: keep sending until the consumer, once assigned, receives one; later warm-up
            // messages are skipped below because their value differs.
            let warmup = Task {
                while !Task.isCancelled {
                    try await producer.enqueue(KafkaProducerMessage(topic: options.topic, value: Array("warmup".utf8)))
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            guard let first = await messages.next() else { throw ValidationError("the consumer stopped during warm-up") }
            consumer.markProcessed(first)
            warmup.cancel()
            try await Task.sleep(for: .milliseconds(500))
            var samples: [Duration] = []
            let clock = ContinuousClock()
            for index in 0..<count {
                let value = Array("rtt-\(index)".utf8)
                let start = clock.now
                try await producer.enqueue(KafkaProducerMessage(topic: options.topic, value: value))
                while let message = await messages.next() {
                    consumer.markProcessed(message)
                    if message.value.elementsEqual(value) { break }
                }
                samples.append(clock.now - start)
            }
            await consumer.close()
            await producer.shutdown()
            samples.sort()
            func percentile(_ p: Double) -> Double {
                samples[min(samples.count - 1, Int(Double(samples.count) * p))].seconds * 1000
            }
            print("samples: \(samples.count)")
            print("p50 ms: \(String(format: "%.3f", percentile(0.5)))")
            print("p99 ms: \(String(format: "%.3f", percentile(0.99)))")
        }
    }
}
