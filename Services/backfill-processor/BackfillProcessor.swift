import ArgumentParser
import JobstreamBackfill
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Kafka
import Logging

@main
struct BackfillProcessor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill-processor",
        abstract: "Applies validated backfill rows to the record store, a chunk per transaction, exactly once.",
        discussion: """
            Run any number of instances in one consumer group: the chunks of every job spread over the \
            partitions of jobstream.backfill.chunks. A chunk delivered twice (after a crash or a rebalance) \
            is found in the ledger and not applied again.
            """)

    @OptionGroup var options: ServiceOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var operations: OperationsOptions

    @Option(
        name: .customLong("max-chunks-per-second"),
        help: "The most chunks this instance applies per second, to pace it beside production traffic (0: no limit).")
    var maxChunksPerSecond: Double = Settings.value("max-chunks-per-second", default: 0)

    func validate() throws {
        guard maxChunksPerSecond >= 0, maxChunksPerSecond.isFinite else {
            throw ValidationError("--max-chunks-per-second must be 0 (no limit) or more")
        }
    }

    func run() async throws {
        try await ServiceRunner.run(
            name: "backfill-processor",
            topics: [Topics.backfillChunks],
            options: options,
            operations: operations
        ) { context in
            let store = try await storeOptions.openStore(logger: context.logger)
            let applier = ChunkApplier(store: store)
            let pacer = Pacer(perSecond: maxChunksPerSecond)
            return ServiceStage(services: [StoreLifetime(store: store)]) { envelope, _, logger in
                guard let chunk = envelope.payload(as: BackfillChunk.self) else { return }
                try await pacer.waitForTurn()
                let outcome = try await applier.applyOrRecordRefusal(chunk, jobId: envelope.jobId, logger: logger)
                switch outcome {
                case .applied(let entry):
                    logger.debug("chunk \(chunk.chunkIndex) applied: \(entry.rowCount) rows, \(entry.failures.count) failed")
                case .alreadyApplied:
                    logger.info("chunk \(chunk.chunkIndex) was applied before; not applied again")
                case .skipped(let reason):
                    logger.info("chunk \(chunk.chunkIndex) not applied: \(reason)")
                case .unknownJob:
                    throw UnprocessableMessage(
                        "backfill \(envelope.jobId) is not in the job log; its chunk \(chunk.chunkIndex) cannot be applied")
                case .refused(let reason):
                    throw UnprocessableMessage("refused, not applied: \(reason)")
                }
            }
        }
    }
}
