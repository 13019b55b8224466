import JobstreamMessages
import JobstreamStore
import Logging

extension ChunkApplier {
    /// Applies a chunk. A failure the store reports as an outage is thrown, for the message loop to
    /// retry until the store is back. One the store refuses the chunk for (it will refuse it every
    /// time) is tried three times, then the chunk is recorded with every row failed and the store's
    /// reason, so the job still ends and its result file says why.
    public func applyOrRecordRefusal(
        _ chunk: BackfillChunk, jobId: String, logger: Logger,
        clock: any JobClock = SystemJobClock()
    ) async throws -> ChunkApplyOutcome {
        var refusals = 0
        while true {
            do {
                return try await apply(chunk, jobId: jobId)
            } catch let error as UnknownAction {
                throw UnprocessableMessage(error.description)
            } catch {
                if await store.isOutage(error) { throw error }
                refusals += 1
                guard refusals >= 3 else {
                    logger.warning("chunk \(chunk.chunkIndex): the store refused it (try \(refusals) of 3): \(error)")
                    try await clock.sleep(for: .milliseconds(200 * refusals))
                    continue
                }
                let reason = TextRule.cut(
                    "not applied: the record store refused this row's chunk: \(StoreFailure.describe(error))",
                    toBytes: InputLimits.reasonBytes)
                logger.error("chunk \(chunk.chunkIndex): the store refused it 3 times; its rows are recorded as failed: \(error)")
                return try await recordRefused(chunk, jobId: jobId, reason: reason)
            }
        }
    }
}
