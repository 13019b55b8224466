import ArgumentParser
import JobstreamBackfill
import JobstreamMessages
import JobstreamService
import JobstreamStore

@main
struct BackfillValidator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-validator",
        abstract: "Takes backfill requests, validates their files, fans rows out to the processors and keeps each job's log.",
        discussion: """
            Run one or more instances in one consumer group. Each job is owned by one instance, which renews \
            its claim in the database every second; when an instance dies, another (or the same one restarted) \
            takes its unfinished jobs over once the claim lapses (--lease).
            """)

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var operations: OperationsOptions

    @Option(name: .customLong("chunk-size"), help: "Valid rows per chunk sent to the processors.")
    var chunkSize: Int = Settings.value("chunk-size", default: 1000)

    @Option(help: "Seconds a job's claim lasts without renewal before another validator may take the job over.")
    var lease: Int = Settings.value("lease", default: 15)

    @Option(
        name: .customLong("max-takeovers"),
        help: "How many times in a row a job may be taken over without moving on before it is ended as Failed.")
    var maxTakeovers: Int = Settings.value("max-takeovers", default: 5)

    @Option(
        name: .customLong("orphan-file-hours"),
        help: "How old an upload no job refers to (or a job's leftover working file) must be before it is removed.")
    var orphanFileHours: Int = Settings.value("orphan-file-hours", default: 24)

    @OptionGroup var fileLimits: FileLimitOptions

    func validate() throws {
        guard (1...50_000).contains(chunkSize) else { throw ValidationError("--chunk-size must be between 1 and 50000") }
        guard (3...600).contains(lease) else { throw ValidationError("--lease must be between 3 and 600 seconds") }
        guard (1...8760).contains(orphanFileHours) else {
            throw ValidationError("--orphan-file-hours must be between 1 and 8760")
        }
        guard (1...1000).contains(maxTakeovers) else { throw ValidationError("--max-takeovers must be between 1 and 1000") }
    }

    func run() async throws {
        try await ServiceRunner.run(
            name: "backfill-validator",
            topics: [Topics.backfillRequests],
            options: options,
            operations: operations
        ) { context in
            let store = try await storeOptions.openStore(logger: context.logger)
            let supervisor = BackfillJobSupervisor(
                environment: BackfillJobEnvironment(
                    store: store, files: storeOptions.files,
                    messenger: KafkaBackfillMessenger(producer: context.producer, metrics: context.metrics),
                    logger: context.logger, chunkSize: chunkSize,
                    lease: Lease(duration: .seconds(lease), maxTakeovers: maxTakeovers),
                    fileLimits: fileLimits.limits),
                sweepAge: .seconds(orphanFileHours * 3600))
            return ServiceStage(services: [StoreLifetime(store: store), JobLoop(run: supervisor.run)]) { envelope, _, logger in
                try await supervisor.handle(envelope, logger: logger)
            }
        }
    }
}
