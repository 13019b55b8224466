import JobstreamMessages

/// What a cancel request found.
public enum BackfillCancelOutcome: Sendable, Equatable {
    /// Recorded (or recorded already): the job's owner ends it Canceled at its next renewal.
    case requested(BackfillStatus)
    /// No job with this id is in the log.
    case notFound
    /// The job has ended; nothing to cancel.
    case ended(BackfillStatus)
}

extension BackfillJobLog {
    /// Asks a backfill to stop. The request is written into the job's log — the one place every
    /// validator reads — so whichever validator holds the job now, or takes it over later, notices it
    /// at its next renewal (each second) and ends the job Canceled. The CLI and the dashboard call
    /// this directly: a cancel needs no message, and the caller learns at once whether it took.
    public func cancel(_ jobId: String, by user: String) async throws -> BackfillCancelOutcome {
        guard let job = try await requestCancel(jobId, by: user) else { return .notFound }
        return job.status.isTerminal ? .ended(job.status) : .requested(job.status)
    }
}
