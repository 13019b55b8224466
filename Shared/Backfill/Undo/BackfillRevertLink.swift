import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// When a backfill can be reverted, and the link between a job and its revert (`reverts` on the
/// revert, `reverted_by` on the job it puts back).
extension BackfillJobLog {
    /// Why job `id` cannot be reverted by the job `revert` (nil: a revert not submitted yet), or nil
    /// when it can: it must have ended, have changed records, and not be reverted by another job.
    public static func revertProblem(
        of job: BackfillJobRecord?, id: String, by revert: String?, changedRecords: Int
    ) -> String? {
        guard let job else { return "backfill \(id) is not in the job log" }
        guard job.preview == 0 else {
            return "backfill \(id) is a preview: it wrote no record, so there is nothing to revert"
        }
        if let removed = job.beforeImagesRemoved {
            return "backfill \(id) can no longer be reverted: its before-images were removed on "
                + "\(Timestamp.logText(Date(epochMilliseconds: removed))) (the validators keep them --keep-before-images-days)"
        }
        guard job.status.isTerminal else {
            return "backfill \(id) is \(job.status.rawValue): a job can be reverted once it has ended"
        }
        if let other = job.revertedBy, other != revert {
            return "backfill \(id) was reverted already, by backfill \(other)"
        }
        if changedRecords == 0 {
            return job.status == .failed
                ? "backfill \(id) failed with nothing applied: there is nothing to revert"
                : "backfill \(id) changed no record: there is nothing to revert"
        }
        return nil
    }

    /// Why job `id` cannot be reverted now, or nil when it can (what the CLI checks before submitting).
    public func revertProblem(of id: String) async throws -> String? {
        let job = try await job(id)
        let changed = try await BeforeImages(store: store).count(id)
        return Self.revertProblem(of: job, id: id, by: nil, changedRecords: changed)
    }

    /// Links the revert `revert` to job `original` if it can be reverted; returns why not otherwise.
    /// Linking again (a revert resumed after a takeover) changes nothing. Two reverts of one job: the
    /// first to link wins, the other is told. The job's state is numbered anew, so its status event
    /// is published again with Reverted By.
    public func linkRevert(of original: String, by revert: String) async throws -> String? {
        let flavor = store.flavor
        return try await store.transaction { database in
            let lock: SQLQueryString = flavor == .postgres ? " FOR UPDATE" : ""
            let job = try await database.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM backfill_jobs WHERE job_id = \(bind: original)\(lock)
                """
            ).first(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            let changed = try await BeforeImages.count(original, in: database)
            if let problem = Self.revertProblem(of: job, id: original, by: revert, changedRecords: changed) { return problem }
            guard job?.revertedBy == nil else { return nil }
            try await database.raw(
                """
                UPDATE backfill_jobs SET reverted_by = \(bind: revert), updated_at = \(JobClaims.now(flavor)),
                    sequence = sequence + 1
                WHERE job_id = \(bind: original)
                """
            ).run()
            return nil
        }
    }
}
