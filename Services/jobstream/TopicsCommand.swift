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

        func run() async throws {
            let admin = try makeAdmin(options)
            let specs = Topics.all.map {
                TopicSpec(name: $0.name, partitions: $0.partitions, replicationFactor: replicationFactor, configs: $0.configs)
            }
            let outcomes = try await admin.createTopics(specs)
            var failures = 0
            for topic in Topics.all {
                switch outcomes[topic.name] {
                case .created?: print("created   \(topic.name) (\(topic.partitions) partitions)")
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
