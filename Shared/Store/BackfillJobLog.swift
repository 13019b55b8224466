import JobstreamMessages
import SQLKit

/// The backfill log in the database: the jobs, who runs each, and cancel requests.
///
/// Writes that belong to a job's owner are conditional on still owning it, so a validator that lost
/// its claim (it stalled past its lease and another took over) cannot overwrite the new owner's work.
public struct BackfillJobLog: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    static let columns = """
        job_id, action, uploaded_file, file_path, file_size, md5, generated_by, retry_of, retried_by, status,
        submitted_at, start_date, end_date, records_total, records_processed, records_failed, chunk_count, chunk_size,
        error, result_path, cancel_requested_by, owner, lease_until, updated_at
        """

    /// Adds a new job; false if a job with this id exists already (a repeated request).
    public func insert(_ job: BackfillJobRecord) async throws -> Bool {
        try await store.withDatabase { database in
            let values: [any Encodable & Sendable] = [
                job.jobId, job.action, job.uploadedFile, job.filePath, job.fileSize, job.md5, job.generatedBy,
                job.retryOf, job.retriedBy, job.status.rawValue, job.submittedAt, job.startDate, job.endDate,
                job.recordsTotal, job.recordsProcessed, job.recordsFailed, job.chunkCount, job.chunkSize, job.error,
                job.resultPath, job.cancelRequestedBy, job.owner, job.leaseUntil, job.updatedAt,
            ]
            let inserted = try await database.raw("""
                INSERT INTO backfill_jobs (\(unsafeRaw: Self.columns)) VALUES (\(binds: values))
                ON CONFLICT (job_id) DO NOTHING RETURNING job_id
                """).all()
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
            try await database.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM backfill_jobs ORDER BY submitted_at DESC, job_id LIMIT \(literal: limit)
                """).all(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Writes the job's state if `owner` still owns it, extending the claim; false if it does not.
    public func save(_ job: BackfillJobRecord, owner: String, leaseUntil: Int) async throws -> Bool {
        try await store.withDatabase { database in
            let updated = try await database.raw("""
                UPDATE backfill_jobs SET status = \(bind: job.status.rawValue), start_date = \(bind: job.startDate),
                    end_date = \(bind: job.endDate), records_total = \(bind: job.recordsTotal),
                    records_processed = \(bind: job.recordsProcessed), records_failed = \(bind: job.recordsFailed),
                    chunk_count = \(bind: job.chunkCount), error = \(bind: job.error), result_path = \(bind: job.resultPath),
                    lease_until = \(bind: leaseUntil), updated_at = \(bind: epochMilliseconds())
                WHERE job_id = \(bind: job.jobId) AND owner = \(bind: owner) RETURNING job_id
                """).all()
            return !updated.isEmpty
        }
    }

    static let claims = JobClaims(table: "backfill_jobs", idColumn: "job_id",
                                  activeStatuses: BackfillStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue),
                                  columns: columns)

    /// Extends `owner`'s claim and returns the job as it is now, or nil if `owner` lost it.
    public func renew(_ jobId: String, owner: String, leaseUntil: Int) async throws -> BackfillJobRecord? {
        try await store.withDatabase {
            try await Self.claims.renew(jobId, owner: owner, leaseUntil: leaseUntil, as: BackfillJobRecord.self, in: $0)
        }
    }

    /// Gives up a claim at shutdown so another validator can take the job over at once.
    public func release(_ jobId: String, owner: String) async throws {
        try await store.withDatabase { try await Self.claims.release(jobId, owner: owner, in: $0) }
    }

    /// Claims every unfinished job whose claim has lapsed (its owner died or let go); returns their ids.
    public func claimOrphans(owner: String, now: Int, leaseUntil: Int) async throws -> [String] {
        try await store.withDatabase { try await Self.claims.claimOrphans(owner: owner, now: now, leaseUntil: leaseUntil, in: $0) }
    }

    /// Records a cancel request on an unfinished job; returns the job as it was, or nil if unknown.
    /// The request is recorded only when the job has not finished.
    public func requestCancel(_ jobId: String, by user: String) async throws -> BackfillJobRecord? {
        try await store.transaction { database in
            guard let job = try await database.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM backfill_jobs WHERE job_id = \(bind: jobId)
                """).first(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase) else { return nil }
            if !job.status.isTerminal && job.cancelRequestedBy == nil {
                try await database.raw("""
                    UPDATE backfill_jobs SET cancel_requested_by = \(bind: user), updated_at = \(bind: epochMilliseconds())
                    WHERE job_id = \(bind: jobId)
                    """).run()
            }
            return job
        }
    }

    /// Links a retry to the job it retries.
    public func linkRetry(of original: String, by retry: String) async throws {
        try await store.withDatabase { database in
            try await database.raw("""
                UPDATE backfill_jobs SET retried_by = \(bind: retry) WHERE job_id = \(bind: original)
                """).run()
        }
    }
}

extension BackfillJobLog {
    /// Saves Records Processed while the job runs, if `owner` still owns it.
    public func saveProgress(_ jobId: String, owner: String, processed: Int, failed: Int) async throws {
        try await store.withDatabase { database in
            try await database.raw("""
                UPDATE backfill_jobs SET records_processed = \(bind: processed), records_failed = \(bind: failed),
                    updated_at = \(bind: epochMilliseconds())
                WHERE job_id = \(bind: jobId) AND owner = \(bind: owner)
                """).run()
        }
    }
}
