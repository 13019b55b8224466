import ArgumentParser
import JobstreamMessages
import JobstreamMigration
import JobstreamService
import JobstreamStore

@main
struct MigrationRunner: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migration-runner",
        abstract:
            "Generates revenue schedules from the billing records as of a cutover date, slice by slice, with progress and warnings.",
        discussion: """
            Run one or more instances in one consumer group. The instance that takes a request plans the \
            migration's slices and publishes them; every instance generates the slices it is given, so a \
            second instance makes a migration faster. A slice is generated exactly once. When the \
            coordinating instance dies, another (or the same one restarted) takes the migration over once \
            its claim lapses (--lease) and continues from the slices done.
            """)

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var operations: OperationsOptions

    @Option(name: .customLong("slice-size"), help: "Charges per slice, for the migrations this instance plans.")
    var sliceSize: Int = Settings.value("slice-size", default: 1000)

    @Option(help: "Seconds a migration's claim lasts without renewal before another runner may take it over.")
    var lease: Int = Settings.value("lease", default: 15)

    @Option(
        name: .customLong("error-after"),
        help: "Seconds the store may keep failing before a running migration is ended as Error.")
    var errorAfter: Int = Settings.value("error-after", default: 30)

    @Option(
        name: .customLong("max-slices-per-second"),
        help: "The most slices this instance generates per second, to pace it beside production traffic (0: no limit).")
    var maxSlicesPerSecond: Double = Settings.value("max-slices-per-second", default: 0)

    @Option(
        name: .customLong("max-takeovers"),
        help: "How many times in a row a migration may be taken over without moving on before it is ended as Error.")
    var maxTakeovers: Int = Settings.value("max-takeovers", default: 5)

    func validate() throws {
        guard (1...1000).contains(maxTakeovers) else { throw ValidationError("--max-takeovers must be between 1 and 1000") }
        guard maxSlicesPerSecond >= 0, maxSlicesPerSecond.isFinite else {
            throw ValidationError("--max-slices-per-second must be 0 (no limit) or more")
        }
        guard (1...100_000).contains(sliceSize) else { throw ValidationError("--slice-size must be between 1 and 100000") }
        guard (3...600).contains(lease) else { throw ValidationError("--lease must be between 3 and 600 seconds") }
        guard (1...3600).contains(errorAfter) else { throw ValidationError("--error-after must be between 1 and 3600 seconds") }
    }

    func run() async throws {
        try await ServiceRunner.run(
            name: "migration-runner",
            topics: [Topics.migrationRequests, Topics.migrationSlices],
            options: options,
            operations: operations
        ) { context in
            let store = try await storeOptions.openStore(logger: context.logger)
            let supervisor = MigrationSupervisor(
                environment: MigrationEnvironment(
                    store: store, messenger: KafkaMigrationMessenger(producer: context.producer, metrics: context.metrics),
                    logger: context.logger, sliceSize: sliceSize,
                    lease: Lease(duration: .seconds(lease), maxTakeovers: maxTakeovers),
                    errorAfter: .seconds(errorAfter), waitForTurn: Pacer(perSecond: maxSlicesPerSecond).waitForTurn))
            return ServiceStage(services: [StoreLifetime(store: store), JobLoop(run: supervisor.run)]) { envelope, _, logger in
                try await supervisor.handle(envelope, logger: logger)
            }
        }
    }
}
