import ArgumentParser
import JobstreamMessages
import JobstreamService
import JobstreamStore
import JobstreamSync

@main
struct SyncHistoryRecorder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-history-recorder",
        abstract: "Records CRM sync sessions and each record's outcome, and keeps 30 days of sync history.",
        discussion: """
            Consumes what sync engines report on \(Topics.syncEvents) and keeps each session's status \
            (Finished, Finished with Errors, Failure), counts, times, failed records and CRM Id Change \
            Results in the database. Events may arrive twice and in any order. Every session's summary goes \
            to \(Topics.syncHistory) (compacted, keyed by session id); records to retry, or a whole session \
            after a Failure, go to \(Topics.syncRetries). Sessions that finished --retention-days ago or \
            more are deleted with their detail rows, and tombstoned on \(Topics.syncHistory), whenever a \
            session ends and every --retention-interval seconds. Run one instance on SQLite, or several on \
            one PostgreSQL database.
            """)

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var operations: OperationsOptions

    @Option(name: .customLong("retention-days"), help: "Days a finished session is kept.")
    var retentionDays: Int = Settings.value("retention-days", default: 30)

    @Option(name: .customLong("retention-interval"), help: "Seconds between retention runs when no session ends.")
    var retentionInterval: Int = Settings.value("retention-interval", default: 3600)

    @Option(name: .customLong("batch-size"), help: "The most events recorded in one transaction.")
    var batchSize: Int = Settings.value("batch-size", default: 5000)

    func validate() throws {
        guard (1...3650).contains(retentionDays) else { throw ValidationError("--retention-days must be between 1 and 3650") }
        guard (1...86_400).contains(retentionInterval) else {
            throw ValidationError("--retention-interval must be between 1 and 86400 seconds")
        }
        guard (1...50_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 50000") }
    }

    func run() async throws {
        try await ServiceRunner.run(
            name: "sync-history-recorder",
            topics: [Topics.syncEvents],
            options: options,
            operations: operations
        ) { context in
            let store = try await storeOptions.openStore(logger: context.logger)
            let publisher = SyncPublisher(
                store: store, messenger: KafkaSyncMessenger(producer: context.producer, metrics: context.metrics),
                logger: context.logger)
            let retention = SyncRetention(store: store, days: retentionDays)
            let recorder = SyncRecorder(log: SyncHistoryLog(store: store), publisher: publisher, retention: retention)
            let housekeeping = SyncHousekeeping(
                publisher: publisher, retention: retention,
                retentionInterval: .seconds(retentionInterval), sweepInterval: .seconds(5),
                logger: context.logger)
            return ServiceStage(
                services: [StoreLifetime(store: store), JobLoop(run: housekeeping.run)], maxBatchSize: batchSize,
                check: SyncEventCheck.problem(in:)
            ) { batch, logger in
                try await recorder.record(batch.map(\.envelope), logger: logger)
            }
        }
    }
}
