import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// What stops a Processing backfill from applying rows without ending it: an operator's pause
/// request (`pause_requested_by` on the job) and the failure brake (table `backfill_brakes`).
///
/// Processors read both in every chunk's transaction and apply nothing while either holds; the job's
/// owner notices either at its next renewal, moves the job to Paused, and back to Processing once
/// the hold is lifted (sending again the chunks not applied meanwhile).
///
/// The brake's counts are kept by the processors: each braked chunk takes the brake's row lock at the
/// end of its transaction, adds its rows, and trips the brake when the limit is passed; a chunk that
/// finds the brake tripped by another meanwhile is rolled back. So at most the one chunk that crosses
/// the limit is applied past it, however many processors run.
public enum BackfillHolds {
    /// What a chunk's transaction found of the brake once its rows were counted.
    enum Count {
        /// Counted; the brake holds (or has just tripped: the reason says why).
        case counted(trippedNow: String?)
        /// Tripped by another chunk meanwhile: this chunk must not be applied.
        case trippedBefore(String)
    }

    /// A chunk rolled back because the brake tripped meanwhile.
    struct HeldBack: Error {
        let reason: String
    }

    /// The brake of `jobId` as the chunk's transaction starts: nil when the job has none, else why it
    /// tripped (nil while it has not).
    static func brake(_ jobId: String, in database: any SQLDatabase) async throws -> String?? {
        guard
            let row = try await database.raw("SELECT tripped FROM backfill_brakes WHERE job_id = \(bind: jobId)").first()
        else { return nil }
        return .some(try row.decode(column: "tripped", as: String?.self))
    }

    /// Adds a chunk's outcomes to the brake, under its row lock, tripping it when they pass the limit.
    static func count(
        _ jobId: String, rows: Int, failed: Int, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Count {
        let lock: SQLQueryString = flavor == .postgres ? " FOR UPDATE" : ""
        guard
            let row = try await database.raw(
                """
                SELECT max_failed, rows_done, rows_failed, tripped FROM backfill_brakes WHERE job_id = \(bind: jobId)\(lock)
                """
            ).first()
        else { return .counted(trippedNow: nil) }
        if let tripped = try row.decode(column: "tripped", as: String?.self) { return .trippedBefore(tripped) }
        let done = try row.decode(column: "rows_done", as: Int.self) + rows
        let failedSoFar = try row.decode(column: "rows_failed", as: Int.self) + failed
        var tripped: String?
        if let text = try row.decode(column: "max_failed", as: String?.self), case .success(let brake) = FailureBrake.parse(text),
            brake.isExceeded(failed: failedSoFar, of: done)
        {
            tripped = brake.reason(failed: failedSoFar, of: done)
        }
        try await database.raw(
            """
            UPDATE backfill_brakes SET rows_done = \(bind: done), rows_failed = \(bind: failedSoFar), tripped = \(bind: tripped)
            WHERE job_id = \(bind: jobId)
            """
        ).run()
        return .counted(trippedNow: tripped)
    }
}

extension BackfillJobLog {
    /// Sets up the job's failure brake as it starts Processing, counting the rows the validator
    /// refused; tripped at once when those alone pass the limit. Setting it up again (a takeover)
    /// changes nothing.
    public func setUpBrake(_ jobId: String, maxFailed: String, refused: Int) async throws {
        var tripped: String?
        if case .success(let brake) = FailureBrake.parse(maxFailed), brake.isExceeded(failed: refused, of: refused) {
            tripped = brake.reason(failed: refused, of: refused)
        }
        try await store.withDatabase { database in
            try await database.raw(
                """
                INSERT INTO backfill_brakes (job_id, max_failed, rows_done, rows_failed, tripped)
                VALUES (\(bind: jobId), \(bind: maxFailed), \(bind: refused), \(bind: refused), \(bind: tripped))
                ON CONFLICT (job_id) DO NOTHING
                """
            ).run()
        }
    }

    /// Why the job may not apply rows now — an operator's pause request, or the failure brake — or nil.
    public func hold(_ job: BackfillJobRecord) async throws -> String? {
        if let by = job.pauseRequestedBy { return "paused by \(by)" }
        return try await store.withDatabase { database in
            try await database.raw("SELECT tripped FROM backfill_brakes WHERE job_id = \(bind: job.jobId)").first()?
                .decode(column: "tripped", as: String?.self)
        }
    }

    /// What a pause or resume request found.
    public enum HoldOutcome: Sendable, Equatable {
        /// Recorded: the job's owner pauses (or resumes) it at its next renewal.
        case requested(BackfillStatus)
        case notFound
        /// The job is not in a status where the request means anything; the text says why.
        case refused(String)
    }

    /// Asks a Processing job to pause: no chunk applies from the moment this commits.
    public func requestPause(_ jobId: String, by user: String) async throws -> HoldOutcome {
        try await store.transaction { database in
            guard let job = try await Self.job(jobId, in: database) else { return .notFound }
            guard job.status == .processing || job.status == .paused else {
                return .refused("backfill \(jobId) is \(job.status.rawValue); only a Processing job can be paused")
            }
            guard job.pauseRequestedBy == nil else { return .requested(job.status) }
            try await database.raw(
                """
                UPDATE backfill_jobs SET pause_requested_by = \(bind: user), updated_at = \(bind: Date().epochMilliseconds)
                WHERE job_id = \(bind: jobId)
                """
            ).run()
            return .requested(job.status)
        }
    }

    /// Lifts every hold of a Paused job (or one asked to pause): the pause request, and a tripped
    /// failure brake — replaced by `maxFailed` when given, turned off otherwise (the person decided).
    public func resume(_ jobId: String, maxFailed: String?) async throws -> HoldOutcome {
        try await store.transaction { database in
            guard let job = try await Self.job(jobId, in: database) else { return .notFound }
            guard job.status == .paused || (job.status == .processing && job.pauseRequestedBy != nil) else {
                return .refused("backfill \(jobId) is \(job.status.rawValue) and not paused; only a Paused job can be resumed")
            }
            try await database.raw(
                """
                UPDATE backfill_jobs SET pause_requested_by = NULL, max_failed = \(bind: maxFailed),
                    updated_at = \(bind: Date().epochMilliseconds)
                WHERE job_id = \(bind: jobId)
                """
            ).run()
            if let maxFailed {
                // Counting what the job did so far, for a job that had no brake before.
                try await database.raw(
                    """
                    INSERT INTO backfill_brakes (job_id, max_failed, rows_done, rows_failed, tripped)
                    SELECT \(bind: jobId), \(bind: maxFailed),
                        (SELECT COALESCE(SUM(row_count), 0) FROM backfill_chunks WHERE job_id = \(bind: jobId))
                            + (SELECT COUNT(*) FROM backfill_row_errors WHERE job_id = \(bind: jobId)),
                        (SELECT COALESCE(SUM(failed_count), 0) FROM backfill_chunks WHERE job_id = \(bind: jobId))
                            + (SELECT COUNT(*) FROM backfill_row_errors WHERE job_id = \(bind: jobId)),
                        NULL
                    WHERE 1 = 1
                    ON CONFLICT (job_id) DO UPDATE SET tripped = NULL, max_failed = \(bind: maxFailed)
                    """
                ).run()
            } else {
                try await database.raw(
                    "UPDATE backfill_brakes SET tripped = NULL, max_failed = NULL WHERE job_id = \(bind: jobId)"
                )
                .run()
            }
            return .requested(job.status)
        }
    }

    /// Sets the most rows per second a job that has not ended may apply (nil: no limit); its owner
    /// paces the chunks it sends from its next renewal on.
    public func setRate(_ jobId: String, to rate: Int?) async throws -> HoldOutcome {
        try await store.transaction { database in
            guard let job = try await Self.job(jobId, in: database) else { return .notFound }
            guard !job.status.isTerminal else {
                return .refused("backfill \(jobId) is \(job.status.rawValue) already; only a job that has not ended has a rate")
            }
            try await database.raw(
                """
                UPDATE backfill_jobs SET rate_limit = \(bind: rate), updated_at = \(bind: Date().epochMilliseconds)
                WHERE job_id = \(bind: jobId)
                """
            ).run()
            return .requested(job.status)
        }
    }

    static func job(_ jobId: String, in database: any SQLDatabase) async throws -> BackfillJobRecord? {
        try await database.raw("SELECT \(unsafeRaw: columns) FROM backfill_jobs WHERE job_id = \(bind: jobId)")
            .first(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
    }
}
