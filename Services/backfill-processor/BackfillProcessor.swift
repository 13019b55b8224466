import ArgumentParser
import JobstreamBackfill
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Kafka
import Logging

/// Applies a chunk. A failure the store reports as an outage is thrown, for the message loop to retry
/// until the store is back. One the store refuses the chunk for (it will refuse it every time) is
/// tried three times, then the chunk is recorded with every row failed and the store's reason, so the
/// job still ends and its result file says why.
func apply(_ chunk: BackfillChunk, jobId: String, applier: ChunkApplier, logger: Logger) async throws -> ChunkApplyOutcome {
    var refusals = 0
    while true {
        do {
            return try await applier.apply(chunk, jobId: jobId)
        } catch let error as UnknownAction {
            throw UnprocessableMessage(error.description)
        } catch {
            if await applier.store.isOutage(error) { throw error }
            refusals += 1
            guard refusals >= 3 else {
                logger.warning("chunk \(chunk.chunkIndex): the store refused it (try \(refusals) of 3): \(error)")
                try await Task.sleep(for: .milliseconds(200 * refusals))
                continue
            }
            let reason = TextRule.cut("not applied: the record store refused this row's chunk: \(StoreFailure.describe(error))", toBytes: InputLimits.reasonBytes)
            logger.error("chunk \(chunk.chunkIndex): the store refused it 3 times; its rows are recorded as failed: \(error)")
            return try await applier.recordRefused(chunk, jobId: jobId, reason: reason)
        }
    }
}

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

    @Option(name: .customLong("max-chunks-per-second"),
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
            accepting: [.backfillChunk],
            options: options,
            operations: operations
        ) { context in
            let store = try await storeOptions.openStore(logger: context.logger)
            let applier = ChunkApplier(store: store)
            let producer = context.producer
            let pacer = Pacer(perSecond: maxChunksPerSecond)
            return ServiceStage(services: [StoreLifetime(store: store)]) { envelope, _, logger in
                guard let chunk = envelope.payload(as: BackfillChunk.self) else { return }
                try await pacer.waitForTurn()
                let outcome = try await apply(chunk, jobId: envelope.jobId, applier: applier, logger: logger)
                switch outcome {
                case .applied(let entry):
                    logger.debug("chunk \(chunk.chunkIndex) applied: \(entry.rowCount) rows, \(entry.failures.count) failed")
                    // A live event for dashboards; the ledger in the database is the record.
                    let failed = entry.failures.sorted { $0.key < $1.key }
                        .map { RowOutcome(rowNumber: $0.key, success: false, error: $0.value) }
                    let result = Envelope(jobId: envelope.jobId, payload: BackfillChunkResult(
                        chunkIndex: chunk.chunkIndex, outcomes: failed, rowCount: entry.rowCount, failedCount: failed.count))
                    try await producer.enqueue(KafkaProducerMessage(topic: Topics.backfillResults, envelope: result))
                case .alreadyApplied:
                    logger.info("chunk \(chunk.chunkIndex) was applied before; not applied again")
                case .skipped(let reason):
                    logger.info("chunk \(chunk.chunkIndex) not applied: \(reason)")
                case .unknownJob:
                    throw UnprocessableMessage("backfill \(envelope.jobId) is not in the job log; its chunk \(chunk.chunkIndex) cannot be applied")
                case .refused(let reason):
                    throw UnprocessableMessage("refused, not applied: \(reason)")
                }
            }
        }
    }
}
