import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// The backfill log in the database: the jobs, who runs each, and cancel requests.
///
/// Writes that belong to a job's owner are conditional on its claim (owner and epoch, ``JobClaim``),
/// so a validator that lost its claim (it stalled past its lease and another took over) cannot
/// overwrite the new owner's work. Every such write numbers the job's state (`sequence`).
public struct BackfillJobLog: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    static let columns = """
        job_id, action, uploaded_file, file_path, file_size, md5, generated_by, retry_of, retried_by, status,
        submitted_at, start_date, end_date, records_total, records_processed, records_failed, chunk_count, chunk_size,
        error, result_path, cancel_requested_by, owner, lease_until, updated_at, epoch, takeovers, sequence, published_sequence,
        reverts, reverted_by, overwrite_changed, max_failed, pause_requested_by, pause_reason, rate_limit,
        rows_validated, bytes_validated, rows_per_second, estimated_end, preview, would_change, already_as_asked,
        applies, applied_by, approved_by, file_digest, before_images_removed
        """

    /// Adds a new job claimed by `job.owner` for `leaseMilliseconds` by the database's clock; false if
    /// a job with this id exists already (a repeated request).
    public func insert(_ job: BackfillJobRecord, leaseMilliseconds: Int) async throws -> Bool {
        let now = JobClaims.now(store.flavor)
        return try await store.withDatabase { database in
            let values: [any Encodable & Sendable] = [
                job.jobId, job.action, job.uploadedFile, job.filePath, job.fileSize, job.md5, job.generatedBy,
                job.retryOf, job.retriedBy, job.status.rawValue, job.submittedAt, job.startDate, job.endDate,
                job.recordsTotal, job.recordsProcessed, job.recordsFailed, job.chunkCount, job.chunkSize, job.error,
                job.resultPath, job.cancelRequestedBy, job.owner,
            ]
            let inserted = try await database.raw(
                """
                INSERT INTO backfill_jobs (\(unsafeRaw: Self.columns)) VALUES (\(binds: values), \(now) + \(bind: leaseMilliseconds),
                    \(now), 1, 0, 1, 0, \(bind: job.reverts), NULL, \(bind: job.overwriteChanged),
                    \(bind: job.maxFailed), NULL, NULL, \(bind: job.rateLimit), NULL, NULL, NULL, NULL,
                    \(bind: job.preview), NULL, NULL, \(bind: job.applies), NULL, \(bind: job.approvedBy), NULL, NULL)
                ON CONFLICT (job_id) DO NOTHING RETURNING job_id
                """
            ).all()
            return !inserted.isEmpty
        }
    }

    /// One job, or nil.
    public func job(_ jobId: String) async throws -> BackfillJobRecord? {
        try await store.withDatabase { database in
            try await database.raw("SELECT \(unsafeRaw: Self.columns) FROM backfill_jobs WHERE job_id = \(bind: jobId)")
                .first(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Jobs, newest first.
    public func list(limit: Int) async throws -> [BackfillJobRecord] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM backfill_jobs ORDER BY submitted_at DESC, job_id LIMIT \(literal: limit)
                """
            ).all(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Writes the job's state if `claim` still holds it, extending the claim by `leaseMilliseconds`
    /// (0: letting go, for a job that ended) and counting the job as moved on; returns the state's
    /// sequence, or nil if the claim is lost.
    public func save(_ job: BackfillJobRecord, claim: JobClaim, leaseMilliseconds: Int) async throws -> Int? {
        try await store.withDatabase {
            try await Self.save(
                job, claim: claim, leaseMilliseconds: leaseMilliseconds,
                flavor: store.flavor, in: $0)
        }
    }

    static func save(
        _ job: BackfillJobRecord, claim: JobClaim, leaseMilliseconds: Int, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Int? {
        let now = JobClaims.now(flavor)
        let lease: SQLQueryString = leaseMilliseconds > 0 ? "\(now) + \(bind: leaseMilliseconds)" : "0"
        return try await database.raw(
            """
            UPDATE backfill_jobs SET status = \(bind: job.status.rawValue), start_date = \(bind: job.startDate),
                end_date = \(bind: job.endDate), records_total = \(bind: job.recordsTotal),
                records_processed = \(bind: job.recordsProcessed), records_failed = \(bind: job.recordsFailed),
                chunk_count = \(bind: job.chunkCount), error = \(bind: job.error), result_path = \(bind: job.resultPath),
                pause_reason = \(bind: job.pauseReason), rows_validated = \(bind: job.rowsValidated),
                bytes_validated = \(bind: job.bytesValidated), rows_per_second = \(bind: job.rowsPerSecond),
                estimated_end = \(bind: job.estimatedEnd), would_change = \(bind: job.wouldChange),
                already_as_asked = \(bind: job.alreadyAsAsked), file_digest = \(bind: job.fileDigest),
                preview = \(bind: job.preview), lease_until = \(lease), updated_at = \(now), takeovers = 0, sequence = sequence + 1
            WHERE \(claims.held(job.jobId, by: claim)) RETURNING sequence
            """
        ).first()?.decode(column: "sequence", as: Int.self)
    }

    /// Ends the job as `job` says if `claim` still holds it, running `whileHeld` (say, renaming the
    /// result file into place) in the same transaction, where no takeover can come between the check
    /// and the save. Returns the state's sequence, or nil (and `whileHeld` not run) if the claim is lost.
    public func finish(
        _ job: BackfillJobRecord, claim: JobClaim,
        whileHeld: @Sendable () throws -> Void
    ) async throws -> Int? {
        let flavor = store.flavor
        return try await store.transaction { database in
            let lock: SQLQueryString = flavor == .postgres ? " FOR UPDATE" : ""
            guard
                try await database.raw(
                    """
                    SELECT job_id FROM backfill_jobs WHERE \(Self.claims.held(job.jobId, by: claim))\(lock)
                    """
                ).first() != nil
            else { return nil }
            try whileHeld()
            return try await Self.save(job, claim: claim, leaseMilliseconds: 0, flavor: flavor, in: database)
        }
    }

    static let claims = JobClaims(
        table: "backfill_jobs", idColumn: "job_id",
        activeStatuses: BackfillStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue),
        columns: columns, givenUpStatus: BackfillStatus.failed.rawValue, endColumn: "end_date")

    /// Extends the claim and returns the job as it is now, or nil if the claim is lost.
    public func renew(_ jobId: String, claim: JobClaim, leaseMilliseconds: Int) async throws -> BackfillJobRecord? {
        try await store.withDatabase {
            try await Self.claims.renew(
                jobId, claim: claim, leaseMilliseconds: leaseMilliseconds, as: BackfillJobRecord.self,
                flavor: store.flavor, in: $0)
        }
    }

    /// Gives up a claim at shutdown so another validator can take the job over at once.
    public func release(_ jobId: String, claim: JobClaim) async throws {
        try await store.withDatabase { try await Self.claims.release(jobId, claim: claim, in: $0) }
    }

    /// Claims every unfinished job whose claim has lapsed (its owner died or let go), or fails one
    /// taken over `maxTakeovers` times in a row without progress.
    public func claimOrphans(owner: String, leaseMilliseconds: Int, maxTakeovers: Int) async throws -> ClaimedOrphans {
        try await store.transaction {
            try await Self.claims.claimOrphans(
                owner: owner, leaseMilliseconds: leaseMilliseconds, maxTakeovers: maxTakeovers,
                flavor: store.flavor, in: $0)
        }
    }

    /// Notes that the state numbered `sequence` is on the status topic.
    public func published(_ jobId: String, sequence: Int) async throws {
        try await store.withDatabase { try await Self.claims.published(jobId, sequence: sequence, in: $0) }
    }

    /// Jobs whose latest state is not on the status topic and has not changed for `quietMilliseconds`.
    public func unpublished(quietMilliseconds: Int, limit: Int = 100) async throws -> [BackfillJobRecord] {
        try await store.withDatabase {
            try await Self.claims.unpublished(
                quietMilliseconds: quietMilliseconds, limit: limit, as: BackfillJobRecord.self,
                flavor: store.flavor, in: $0)
        }
    }

    /// Records a cancel request on an unfinished job; returns the job as it was, or nil if unknown.
    /// The request is recorded only when the job has not finished.
    public func requestCancel(_ jobId: String, by user: String) async throws -> BackfillJobRecord? {
        try await store.transaction { database in
            guard
                let job = try await database.raw(
                    """
                    SELECT \(unsafeRaw: Self.columns) FROM backfill_jobs WHERE job_id = \(bind: jobId)
                    """
                ).first(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            else { return nil }
            if !job.status.isTerminal && job.cancelRequestedBy == nil {
                try await database.raw(
                    """
                    UPDATE backfill_jobs SET cancel_requested_by = \(bind: user), updated_at = \(bind: Date().epochMilliseconds)
                    WHERE job_id = \(bind: jobId)
                    """
                ).run()
            }
            return job
        }
    }

    /// Links a retry to the job it retries.
    public func linkRetry(of original: String, by retry: String) async throws {
        try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE backfill_jobs SET retried_by = \(bind: retry) WHERE job_id = \(bind: original)
                """
            ).run()
        }
    }
}

extension BackfillJobLog {
    /// Saves Records Processed while the job runs, if `claim` still holds it (the job moved on);
    /// returns the state's sequence, or nil if the claim is lost.
    public func saveProgress(_ job: BackfillJobRecord, claim: JobClaim) async throws -> Int? {
        let now = JobClaims.now(store.flavor)
        return try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE backfill_jobs SET records_processed = \(bind: job.recordsProcessed), records_failed = \(bind: job.recordsFailed),
                    rows_per_second = \(bind: job.rowsPerSecond), estimated_end = \(bind: job.estimatedEnd),
                    updated_at = \(now), takeovers = 0, sequence = sequence + 1
                WHERE \(Self.claims.held(job.jobId, by: claim)) RETURNING sequence
                """
            ).first()?.decode(column: "sequence", as: Int.self)
        }
    }

    /// Saves how far validation has read while the job is Pending, if `claim` still holds it; returns
    /// the state's sequence, or nil if the claim is lost.
    public func saveValidation(_ jobId: String, claim: JobClaim, rows: Int, bytes: Int) async throws -> Int? {
        let now = JobClaims.now(store.flavor)
        return try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE backfill_jobs SET rows_validated = \(bind: rows), bytes_validated = \(bind: bytes),
                    updated_at = \(now), takeovers = 0, sequence = sequence + 1
                WHERE \(Self.claims.held(jobId, by: claim)) RETURNING sequence
                """
            ).first()?.decode(column: "sequence", as: Int.self)
        }
    }
}
