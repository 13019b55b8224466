import JobstreamMessages

/// What a backfill job sends to the other stages: chunks to the processors, and its states to the
/// status topic. The services send them over Kafka; unit tests record them.
public protocol BackfillMessenger: Sendable {
    /// Sends `chunks` of job `jobId` to the processors; returns once the broker has every one of
    /// them, and throws if it does not (the fan-out is then repeated).
    func sendChunks(_ chunks: [BackfillChunk], of jobId: String) async throws
    /// Announces `event`, the state of job `jobId`, on the status topic; returns once the broker has it.
    func announce(_ event: BackfillStatusEvent, of jobId: String) async throws
}
