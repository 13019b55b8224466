import ArgumentParser
import JobstreamMessages
import JobstreamService
import Kafka

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Provision and inspect jobstream's topics on any Kafka cluster.",
        subcommands: [Create.self, List.self, Describe.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every jobstream topic with its partitions and configs. Existing topics are left as they are.")

        @OptionGroup var options: ServiceOptions

        @Option(help: ArgumentHelp("Replication factor; -1 takes the broker's default.", valueName: "n"))
        var replicationFactor: Int32 = -1

        @Option(
            name: .customLong("partitions"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp(
                "A topic's partition count instead of jobstream's default, for more instances of the stage that reads it. Repeatable.",
                valueName: "topic=count"))
        var partitionOverrides: [String] = []

        func validate() throws {
            _ = try partitionCounts()
        }

        /// Each topic's partition count: jobstream's default unless `--partitions` names it.
        func partitionCounts() throws -> [String: Int32] {
            var counts = Dictionary(uniqueKeysWithValues: Topics.all.map { ($0.name, $0.partitions) })
            for entry in partitionOverrides {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let count = Int32(parts[1]), count >= 1 else {
                    throw ValidationError("--partitions \"\(entry)\": expected topic=count with a count of 1 or more")
                }
                guard counts[parts[0]] != nil else {
                    throw ValidationError(
                        "--partitions \"\(entry)\": \(parts[0]) is not a jobstream topic (see `jobstream topics list`)")
                }
                counts[parts[0]] = count
            }
            return counts
        }

        func run() async throws {
            let admin = try makeAdmin(options)
            let partitions = try partitionCounts()
            let specs = Topics.all.map {
                TopicSpec(
                    name: $0.name, partitions: partitions[$0.name] ?? $0.partitions, replicationFactor: replicationFactor,
                    configs: $0.configs)
            }
            let outcomes = try await admin.createTopics(specs)
            var failures = 0
            for topic in Topics.all {
                switch outcomes[topic.name] {
                case .created?: print("created   \(topic.name) (\(partitions[topic.name] ?? topic.partitions) partitions)")
                case .alreadyExisted?: print("exists    \(topic.name)")
                case .failed(let reason)?:
                    failures += 1
                    print("FAILED    \(topic.name): \(reason)")
                case nil:
                    failures += 1
                    print("FAILED    \(topic.name): the broker did not answer for it")
                }
            }
            if failures > 0 { throw ExitCode.failure }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cluster's topics and their partition counts.")

        @OptionGroup var options: ServiceOptions

        func run() async throws {
            let topics = try await makeAdmin(options).listTopics()
            for (name, partitions) in topics.sorted(by: { $0.key < $1.key }) {
                let purpose = Topics.definition(named: name).map { "  — \($0.purpose)" } ?? ""
                print("\(name)  \(partitions) partitions\(purpose)")
            }
            let missing = Topics.all.map(\.name).filter { topics[$0] == nil }
            if !missing.isEmpty {
                print("missing: \(missing.joined(separator: ", ")) — run `jobstream topics create`")
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a topic's configuration as the broker reports it.")

        @OptionGroup var options: ServiceOptions

        @Argument(help: "The topic.")
        var topic: String

        func run() async throws {
            let configs = try await makeAdmin(options).describeTopicConfigs(topic)
            for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
                print("\(key)=\(value)")
            }
        }
    }
}

func makeAdmin(_ options: ServiceOptions) throws -> KafkaAdmin {
    let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: options.logLevel)
    return try KafkaAdmin(configuration: options.kafkaConfiguration(defaultClientID: "jobstream-cli"), logger: logger)
}
